# onebox-api: FastCGI responder (fcgi2, threads).
api_LIBS = -lfcgi
