# Fuzz targets: libFuzzer with --enable-fuzzing; make check replays the corpora.
