# onebox-syncd: libetpan (plain -letpan: its pkg-config makes a non-PIE binary),
# libcurl for XOAUTH2 refresh and the LLM backend, OpenSSL for TLS verification.
sync_LIBS = -letpan -lssl -lcrypto $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
