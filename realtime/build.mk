# onebox-realtime: libwebsockets (Debian 4.1.6) on a libev loop we own (lws's
# libev plugin, libwebsockets-evlib-ev; libev-dev for ev.h).
realtime_LIBS = $(shell pkg-config --libs libwebsockets 2>/dev/null || echo -lwebsockets) -lev
