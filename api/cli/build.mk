# onebox CLI: libcurl for the REST API, libwebsockets for `watch`.
cli_LIBS = $(shell pkg-config --libs libcurl libwebsockets 2>/dev/null || echo -lcurl -lwebsockets)
