/* llm/curl_api.h - libcurl, loaded when the first LLM client is made.
 *
 * Only `agents` talks HTTP, but linking libcurl made every command load it and the forty
 * libraries it needs (TLS, Kerberos, LDAP, ...) at start-up: about 14 ms before main() for
 * `flowmimic flows` on a tiny capture, against 6 ms without. So flowmimic links no libcurl;
 * llm_curl_load() opens the system's libcurl.so.4 (the SONAME every libcurl 7.x and 8.x
 * has) with dlopen() once, and the client calls it through llm_curl. The types and constants
 * still come from <curl/curl.h>. */
#ifndef LLM_CURL_API_H
#define LLM_CURL_API_H

#include <curl/curl.h>

#include "common/err.h"

struct llm_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_reset)(CURL *curl);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *curl);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *curl);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(
        CURLM *m, struct curl_waitfd extra_fds[], unsigned extra_nfds, int timeout_ms, int *numfds);
    CURLMsg *(*multi_info_read)(CURLM *m, int *msgs_in_queue);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
    CURLUcode (*url_get)(const CURLU *u, CURLUPart what, char **part, unsigned int flags);
    void (*url_cleanup)(CURLU *u);
    void (*free)(void *p);
};

/* The loaded functions; valid after llm_curl_load() returned FM_OK. */
extern struct llm_curl_api llm_curl;

/* Load libcurl and run curl_global_init() once per process (thread-safe). Returns FM_OK, or
 * FM_ENET with a message that says what to install. */
FM_MUST_CHECK int llm_curl_load(struct fm_err *err);

#endif
