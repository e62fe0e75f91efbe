from desktop_uploader.cli import main

raise SystemExit(main())
