from desktop_uploader.cli import main

if __name__ == "__main__":  # not when a decoder worker (spawn) imports this module
    raise SystemExit(main())
