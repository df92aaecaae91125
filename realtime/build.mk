# onebox-realtime: libwebsockets (Debian 4.1.6).
realtime_LIBS = $(shell pkg-config --libs libwebsockets 2>/dev/null || echo -lwebsockets)
