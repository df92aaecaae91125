# onebox CLI: libcurl against the REST API.
cli_LIBS = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
