; The Windows installer of bna (NSIS 3, built by packaging/windows/build.sh on Debian):
; a per-user install without administrator rights into %LOCALAPPDATA%\Programs\bna, a
; Start-menu entry, the .bna file association (opens the project in the app), and an
; uninstaller listed in Settings > Apps. Everything in the registry is under HKCU.
;
; makensis -DVERSION=0.1.0 -DSTAGE=<folder with bna.exe …> -DOUTFILE=<setup.exe> bna.nsi

; 64-bit like bna.exe (which needs a 64-bit Windows anyway); Unicode for paths like C:\Users\Zoë.
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!ifndef VERSION | STAGE | OUTFILE
  !error "define VERSION, STAGE and OUTFILE (see packaging/windows/build.sh)"
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\bna"
!define PROG_ID "bna.project"

Name "bna ${VERSION}"
OutFile "${OUTFILE}"
Icon "${STAGE}\bna.ico"
UninstallIcon "${STAGE}\bna.ico"
InstallDir "$LOCALAPPDATA\Programs\bna"
; A later install goes where the first one went.
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
ShowInstDetails show

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "bna"
VIAddVersionKey "FileDescription" "bna – Bicycle Network Analysis"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "bna developers, MIT licence"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "bna"
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  File "${STAGE}\bna.exe"
  File "${STAGE}\mod_spatialite.dll"
  File "${STAGE}\bna.ico"
  File "${STAGE}\README.txt"
  File /r "${STAGE}\licences"
  File /r "${STAGE}\data"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; The shortcut starts in the user's profile, not in the install folder: bna never writes
  ; where it is installed.
  SetOutPath "$PROFILE"
  CreateShortcut "$SMPROGRAMS\bna.lnk" "$INSTDIR\bna.exe" "" "$INSTDIR\bna.ico" 0 \
    SW_SHOWNORMAL "" "Bicycle Network Analysis"

  WriteRegStr HKCU "Software\Classes\.bna" "" "${PROG_ID}"
  WriteRegStr HKCU "Software\Classes\.bna" "Content Type" "application/vnd.sqlite3"
  WriteRegStr HKCU "Software\Classes\${PROG_ID}" "" "BNA project"
  WriteRegStr HKCU "Software\Classes\${PROG_ID}\DefaultIcon" "" "$INSTDIR\bna.ico"
  WriteRegStr HKCU "Software\Classes\${PROG_ID}\shell\open\command" "" '"$INSTDIR\bna.exe" open "%1"'

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "bna – Bicycle Network Analysis"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "bna developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\bna.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  ; SHCNE_ASSOCCHANGED: Explorer shows the new icon and opens .bna files with bna at once.
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Delete "$SMPROGRAMS\bna.lnk"
  ; Only what the installer put there: a folder the user chose may hold other files.
  Delete "$INSTDIR\bna.exe"
  Delete "$INSTDIR\mod_spatialite.dll"
  Delete "$INSTDIR\bna.ico"
  Delete "$INSTDIR\README.txt"
  RMDir /r "$INSTDIR\licences"
  RMDir /r "$INSTDIR\data"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  ; The association is removed only while it is still ours.
  ReadRegStr $0 HKCU "Software\Classes\.bna" ""
  StrCmp $0 "${PROG_ID}" 0 +2
    DeleteRegKey HKCU "Software\Classes\.bna"
  DeleteRegKey HKCU "Software\Classes\${PROG_ID}"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd
