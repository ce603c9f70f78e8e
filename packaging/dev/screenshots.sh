#!/usr/bin/env bash
# Reproduces assets/screenshots/*.png: the real desktop app in a virtual X display (Xvfb),
# software OpenGL (Mesa llvmpipe), offline (no basemap tiles: the roads are the basemap).
#   main.png       first start: the bundled DC demo, analysed and opened
#   inspector.png  a road clicked: its tags, attributes and stress rules
#   reach.png      roads hidden, a block clicked: the blocks it reaches, low-stress vs full
#   drawing.png    a boundary being drawn on the map
#   scenario.png   the scenario panel comparing protected tracks on the three best streets
#                  ("biggest gains", corridors) with the base
#   small.png, large.png  the same window at 1024x700 and at 1440x900, the scenario panel
#                  open: the map keeps its room (BNA_ONLY=sizes takes only these two)
#   table.png      View > Segment table: every road segment, sortable and filterable, under
#                  the map (with the scenario comparison still shown)
#   light.png      View > Light theme, for projectors (BNA_ONLY=extras takes these two)
# Uses a throwaway HOME so the demo project and recent list do not touch yours. Click
# positions assume the 1280x800 window; override with the BNA_* variables below.
# BNA_BIN=path/to/bna skips the release build; BNA_ONLY=scenario takes only scenario.png.
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
if [ -z "${BNA_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin="${BNA_BIN:-${CARGO_TARGET_DIR:-target}/release/bna}"

out=assets/screenshots
mkdir -p "$out"
display=":${BNA_SCREENSHOT_DISPLAY:-99}"
home=$(mktemp -d)
# Large enough for the 1440x900 shot; every shot is cropped to the window.
Xvfb "$display" -screen 0 1440x900x24 -nolisten tcp &
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

HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
  BNA_OFFLINE=1 LIBGL_ALWAYS_SOFTWARE=1 "$bin" &
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
size=1280x800
shot() { sleep "${2:-1.5}"; import -window root -crop "$size+0+0" +repage "$out/$1.png"; }
resize() {
  size="$1x$2"
  xdotool windowsize "$win" "$1" "$2" windowmove "$win" 0 0
  sleep 2
}

# The window at 1024x700 and 1440x900, as it is (the scenario panel open).
size_shots() {
  resize 1024 700
  shot small
  resize 1440 900
  shot large
  resize 1280 800
}
click() { xdotool mousemove "$1" "$2" click "${3:-1}"; sleep 0.4; }
# The View menu's checkboxes: the segment table, then the light theme (switched back after).
extra_shots() {
  click "${BNA_VIEW_X:-52}" "${BNA_VIEW_Y:-12}"
  click "${BNA_TABLE_ITEM_X:-100}" "${BNA_TABLE_ITEM_Y:-186}"
  xdotool key Escape
  xdotool mousemove 700 300
  shot table 2
  click "${BNA_VIEW_X:-52}" "${BNA_VIEW_Y:-12}"
  click "${BNA_LIGHT_ITEM_X:-95}" "${BNA_LIGHT_ITEM_Y:-163}"
  xdotool key Escape
  xdotool mousemove 700 300
  shot light 2
  click "${BNA_VIEW_X:-52}" "${BNA_VIEW_Y:-12}"
  click "${BNA_LIGHT_ITEM_X:-95}" "${BNA_LIGHT_ITEM_Y:-163}"
  xdotool key Escape
}
if [ "${BNA_ONLY:-}" = extras ]; then
  extra_shots
  echo "screenshots in $out/table.png, $out/light.png" >&2
  exit 0
fi
if [ "${BNA_ONLY:-}" = sizes ]; then
  click "${BNA_SCEN_MENU_X:-107}" "${BNA_SCEN_MENU_Y:-12}"
  click "${BNA_SCEN_PANEL_X:-134}" "${BNA_SCEN_PANEL_Y:-39}"
  sleep 3
  size_shots
  echo "screenshots in $out/small.png, $out/large.png" >&2
  exit 0
fi

# The scenario workbench: the CLI ranks whole streets and applies the best three as one
# scenario (the app shares the project file); the app's Scenario menu opens the panel,
# which proposes comparing the newest scenario with the base.
scenario_shot() {
  local project="$home/.local/share/bna/demo-dc.bna" edits="$home/edits.json"
  "$bin" scenario gains "$project" --corridors --top 3 --json >"$home/gains.json"
  {
    printf '['
    grep -o '"road_id": [0-9]*' "$home/gains.json" | grep -o '[0-9]*' |
      sed 's/.*/{"kind":"build","road_id":&,"facility":"protected_track"}/' | paste -sd, -
    printf ']'
  } >"$edits"
  "$bin" scenario apply "$project" "$edits" --name "Tracks on the 3 best streets" --quiet
  click "${BNA_SCEN_MENU_X:-107}" "${BNA_SCEN_MENU_Y:-12}"
  click "${BNA_SCEN_PANEL_X:-134}" "${BNA_SCEN_PANEL_Y:-39}"
  # The panel reads the project's scenarios on a thread, then offers the newest against
  # the base: compare once the button is there.
  sleep 5
  click "${BNA_COMPARE_X:-948}" "${BNA_COMPARE_Y:-640}"
  sleep 3
  # Fit the map to the narrower view, then scroll the panel to the score table.
  click "${BNA_FIT_X:-852}" "${BNA_FIT_Y:-113}"
  xdotool mousemove 1060 500
  for _ in $(seq 1 6); do xdotool click 5; sleep 0.05; done
  xdotool mousemove 1200 790
  shot scenario
}
if [ "${BNA_ONLY:-}" = scenario ]; then
  scenario_shot
  echo "screenshot in $out/scenario.png" >&2
  exit 0
fi
shot main

# A road near the middle of the map: the inspector opens on the right.
click "${BNA_ROAD_X:-800}" "${BNA_ROAD_Y:-420}"
shot inspector

# Close it; View > Road stress off; click a block: its reach.
click "${BNA_CLOSE_X:-1108}" "${BNA_CLOSE_Y:-51}"
click "${BNA_VIEW_X:-52}" "${BNA_VIEW_Y:-12}"
click "${BNA_ROADS_ITEM_X:-90}" "${BNA_ROADS_ITEM_Y:-38}"
xdotool key Escape
click "${BNA_BLOCK_X:-665}" "${BNA_BLOCK_Y:-300}"
shot reach

# Close it, roads back on; open Run analysis (the side panel scrolled down) and draw.
xdotool key Escape
click "${BNA_VIEW_X:-52}" "${BNA_VIEW_Y:-12}"
click "${BNA_ROADS_ITEM_X:-90}" "${BNA_ROADS_ITEM_Y:-38}"
xdotool key Escape
xdotool mousemove 160 500
for _ in $(seq 1 15); do xdotool click 5; sleep 0.05; done
click "${BNA_RUN_X:-60}" "${BNA_RUN_Y:-341}"
for _ in $(seq 1 15); do xdotool click 5; sleep 0.05; done
click "${BNA_DRAW_X:-100}" "${BNA_DRAW_Y:-96}"
for xy in "620 300" "900 260" "1010 470" "820 620" "600 540"; do
  # shellcheck disable=SC2086
  click $xy
done
shot drawing
# Opening the scenario panel ends the drawing.
scenario_shot
size_shots
extra_shots
echo "screenshots in $out" >&2
