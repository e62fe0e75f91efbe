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

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Parameters: "gui"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; stop the embedded store so its files can be removed; settings and history stay in the profile
Filename: "{app}\{#AppExe}"; Parameters: "local-store stop"; Flags: runhidden; RunOnceId: "StopStore"
