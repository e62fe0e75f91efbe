; Inno Setup 6 script: DesktopUploader-<version>-setup.exe from the PyInstaller one-folder bundle.
;
; NOT TESTED on Windows yet: written for a windows-latest CI runner (docs/packaging.md):
;   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\desktop_uploader.spec
;   python dist\desktop-uploader\desktop-uploader.exe --version        (smoke: packaging\smoke_test.py)
;   iscc /DAppVersion=0.1.0 packaging\windows\desktop_uploader.iss
; The version comes from dist\desktop-uploader\VERSION via the /DAppVersion switch (the spec writes
; that file from desktop_uploader.__version__).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\desktop_uploader.iss
#endif
#define AppName "Desktop Uploader"
#define AppExe "desktop-uploader.exe"
#define BundleDir "..\..\dist\desktop-uploader"

[Setup]
; A fixed AppId lets upgrades replace the previous version; never change it.
AppId={{6C1F3E2A-8B4D-4F7E-9A51-2D0C7B3E9F14}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Desktop Uploader developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; per-user install without admin rights unless the user picks "all users"
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=DesktopUploader-{#AppVersion}-setup
SetupIconFile=..\..\build\windows\desktop-uploader.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; the embedded store (weed.exe) may still run after the window closes: ask Windows to close it
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
; Explorer hand-off: the files go to the open window (single instance) or open one with them queued
Name: "sendto"; Description: "Add Desktop Uploader to Explorer's ""Send to"" menu"; GroupDescription: "Explorer:"
Name: "contextmenu"; Description: "Add ""Upload with Desktop Uploader"" to the right-click menu of images and folders"; GroupDescription: "Explorer:"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"; Tasks: desktopicon
; Send to: Explorer passes the selected files as arguments (desktop-uploader.exe FILE...)
Name: "{usersendto}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: sendto

[Registry]
; "Upload with Desktop Uploader" on every file Windows perceives as an image, and on folders.
; Explorer starts one process per selected file ("%1"); they meet in one window (single instance).
; HKA: the current user's classes for a per-user install, the machine's for an all-users one.
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\image\shell\DesktopUploader"; ValueType: string; ValueName: ""; ValueData: "Upload with Desktop Uploader"; Flags: uninsdeletekey; Tasks: contextmenu
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\image\shell\DesktopUploader"; ValueType: string; ValueName: "Icon"; ValueData: """{app}\{#AppExe}"",0"; Tasks: contextmenu
Root: HKA; Subkey: "Software\Classes\SystemFileAssociations\image\shell\DesktopUploader\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: contextmenu
Root: HKA; Subkey: "Software\Classes\Directory\shell\DesktopUploader"; ValueType: string; ValueName: ""; ValueData: "Upload with Desktop Uploader"; Flags: uninsdeletekey; Tasks: contextmenu
Root: HKA; Subkey: "Software\Classes\Directory\shell\DesktopUploader"; ValueType: string; ValueName: "Icon"; ValueData: """{app}\{#AppExe}"",0"; Tasks: contextmenu
Root: HKA; Subkey: "Software\Classes\Directory\shell\DesktopUploader\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: contextmenu

[Run]
Filename: "{app}\{#AppExe}"; Parameters: "gui"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; stop the embedded store so its files can be removed; settings and history stay in the profile
Filename: "{app}\{#AppExe}"; Parameters: "local-store stop"; Flags: runhidden; RunOnceId: "StopStore"
