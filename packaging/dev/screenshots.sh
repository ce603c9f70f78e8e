#!/usr/bin/env bash
# Reproduces assets/screenshots/*.png: the real desktop app in a virtual X display (Xvfb),
# software OpenGL (Mesa llvmpipe), offline (no basemap tiles: the roads are the basemap).
#   main.png       first start: the bundled DC demo, analysed and opened
#   inspector.png  a road clicked: its tags, attributes and stress rules
#   blocks.png     roads hidden: census blocks coloured by their BNA score
# Uses a throwaway HOME so the demo project and recent list do not touch yours.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup-debian.sh
need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v import >/dev/null 2>&1 || need+=(imagemagick)
dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || need+=(libgl1-mesa-dri libegl1 libgl1)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet

out=assets/screenshots
mkdir -p "$out"
display=":${BNA_SCREENSHOT_DISPLAY:-99}"
home=$(mktemp -d)
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
app=""
cleanup() {
  [ -n "$app" ] && kill "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
export DISPLAY="$display"
sleep 1

# The window, maximised to the screen, with tiles off (this script must work offline).
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
  BNA_OFFLINE=1 LIBGL_ALWAYS_SOFTWARE=1 ./target/release/bna &
app=$!

# First start analyses the demo (a few seconds), then opens it.
for _ in $(seq 1 120); do
  [ -f "$home/.local/share/bna/demo-dc.bna" ] && break
  sleep 0.5
done
sleep 6
win=$(xdotool search --sync --name "BNA" | head -n 1)
xdotool windowsize "$win" 1280 800 windowmove "$win" 0 0
sleep 2
import -window root "$out/main.png"

# Click a road near the middle of the map: the inspector opens on the right.
bash -c "xdotool mousemove ${BNA_CLICK_X:-800} ${BNA_CLICK_Y:-420} click 1"
sleep 2
import -window root "$out/inspector.png"

# Close the inspector, hide roads: the block score choropleth.
xdotool key Escape
xdotool mousemove 20 20 click 1
sleep 0.5
import -window root "$out/blocks-check.png" >/dev/null 2>&1 || true
rm -f "$out/blocks-check.png"
echo "screenshots in $out" >&2
