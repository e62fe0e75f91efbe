#!/bin/sh
# /usr/bin/desktop-uploader from the .deb: the app lives in /opt/desktop-uploader.
exec /opt/desktop-uploader/desktop-uploader "$@"
