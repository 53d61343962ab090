/* llm/config.c - a client's configuration: defaults, the server URL read the way Ollama
 * reads OLLAMA_HOST (through libcurl's URL parser), the API names, keep_alive durations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/client.h"
#include "llm/client_int.h"
#include "llm/curl_api.h"

void llm_config_init(struct llm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->api = LLM_API_OLLAMA;
    llm_copy_str(cfg->model, sizeof(cfg->model), LLM_DEFAULT_MODEL);
    cfg->timeout_s = 120;
    cfg->connect_timeout_s = 10;
    cfg->retries = 3;
    cfg->backoff_s = 0.5;
    cfg->temperature = -1;
    cfg->seed = -1;
    cfg->num_ctx = 0;
    cfg->num_predict = 2048;
    cfg->max_reply_bytes = (size_t)1 << 20;
    cfg->stream = 1;
    cfg->stop = NULL;
    /* init cannot fail: a bad OLLAMA_HOST leaves the default, and llm_config_set_server(cfg,
     * NULL, err) is how a caller learns why. */
    if (llm_config_set_server(cfg, NULL, NULL) < 0)
        llm_copy_str(cfg->server, sizeof(cfg->server), LLM_DEFAULT_SERVER);
}

/* Read a server address the way Ollama reads OLLAMA_HOST (envconfig.Host): surrounding
 * spaces and one level of quotes dropped; no scheme means http with port 11434, while
 * http:// and https:// without a port mean 80 and 443; an empty host means 127.0.0.1;
 * a bare IPv6 address is bracketed. Unlike Ollama, a bad port is an error rather than a
 * silent fallback. The listen-everywhere addresses 0.0.0.0 and :: are reached through
 * loopback, which is what a client on the same host means by them. libcurl's own URL
 * parser (curl_url) reads what is left; credentials, a query or a fragment are refused. */
static int parse_server(const char *in, char *out, size_t size, struct fm_err *err)
{
    char tmp[600];
    if (strlen(in) >= 512)
        return fm_err_set(err, FM_EINVAL, "server URL '%.60s...' is too long", in);
    const char *s = in;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
        n--;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s++;
        n -= 2;
    }
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= n && !sep; i++)
        if (memcmp(s + i, "://", 3) == 0)
            sep = s + i;
    const char *rest = sep ? sep + 3 : s;
    size_t scheme_len = sep ? (size_t)(sep - s) : 0;
    size_t rest_len = n - (size_t)(rest - s);
    size_t hp_len = 0; /* host and port: up to the first '/' */
    while (hp_len < rest_len && rest[hp_len] != '/')
        hp_len++;
    size_t colons = 0;
    for (size_t i = 0; i < hp_len; i++)
        colons += rest[i] == ':';
    if (hp_len > 0 && rest[0] == '[' && !memchr(rest, ']', hp_len))
        return fm_err_set(err, FM_EINVAL, "server URL '%s' has no ']' after an IPv6 address", in);
    /* An empty host is 127.0.0.1; a bare IPv6 address (it cannot carry a port) is bracketed. */
    const char *host_pre = hp_len == 0 || (rest[0] == ':' && colons == 1) ? "127.0.0.1" : "";
    int bracket = colons > 1 && rest[0] != '[';
    int w = snprintf(tmp, sizeof(tmp), "%.*s://%s%s%.*s%s%.*s", (int)(sep ? scheme_len : 4),
                     sep ? s : "http", host_pre, bracket ? "[" : "", (int)hp_len, rest,
                     bracket ? "]" : "", (int)(rest_len - hp_len), rest + hp_len);
    if (w < 0 || (size_t)w >= sizeof(tmp))
        return fm_err_set(err, FM_EINVAL, "server URL '%.60s...' is too long", in);

    int rc = llm_curl_load(err);
    if (rc < 0)
        return rc;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    CURLU *u = llm_curl.url();
    if (!u)
        return fm_err_set(err, FM_ENOMEM, "server URL '%s'", in);
    CURLUcode uc = llm_curl.url_set(u, CURLUPART_URL, tmp, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_BAD_PORT_NUMBER) {
        rc = fm_err_set(err, FM_EINVAL, "server URL '%s' has a bad port (use 1-65535)", in);
        goto out;
    }
    if (uc != CURLUE_OK || llm_curl.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        llm_curl.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        llm_curl.url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        rc = fm_err_set(err, FM_EINVAL, "server URL '%s' has a bad host name", in);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = fm_err_set(err, FM_EINVAL,
                        "server URL '%s' has an unsupported scheme (use http:// or https://)", in);
        goto out;
    }
    /* Credentials belong in --api-key-env, not in a URL that is printed in every message. */
    if (llm_curl.url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
        llm_curl.url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
        llm_curl.url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
        rc = fm_err_set(err, FM_EINVAL,
                        "server URL '%s' has a user, query or fragment: give scheme://host:port"
                        "[/path]",
                        in);
        goto out;
    }
    if (llm_curl.url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) {
        /* No port given: Ollama's own without a scheme, the scheme's with one. */
        port = NULL;
    }
    long pv = port ? strtol(port, NULL, 10) : 0;
    if (port && (pv < 1 || pv > 65535)) {
        rc = fm_err_set(err, FM_EINVAL, "server URL '%s' has a bad port (use 1-65535)", in);
        goto out;
    }
    const char *hostname = host;
    if (strcmp(host, "0.0.0.0") == 0)
        hostname = "127.0.0.1";
    else if (strcmp(host, "[::]") == 0 || strcmp(host, "[0:0:0:0:0:0:0:0]") == 0)
        hostname = "[::1]";
    size_t path_len = strlen(path);
    while (path_len > 0 && path[path_len - 1] == '/')
        path_len--;
    w = snprintf(out, size, "%s://%s:%s%.*s", scheme, hostname,
                 port                           ? port
                 : !sep                         ? "11434"
                 : strcmp(scheme, "https") == 0 ? "443"
                                                : "80",
                 (int)path_len, path);
    if (w < 0 || (size_t)w >= size)
        rc = fm_err_set(err, FM_EINVAL, "server URL '%.60s...' is too long", in);
out:
    llm_curl.free(scheme);
    llm_curl.free(host);
    llm_curl.free(port);
    llm_curl.free(path);
    llm_curl.free(extra);
    llm_curl.url_cleanup(u);
    return rc;
}

int llm_config_set_server(struct llm_config *cfg, const char *url, struct fm_err *err)
{
    char buf[sizeof(cfg->server)];
    if (!url) {
        const char *env = getenv("OLLAMA_HOST");
        if (!env || !*env) {
            llm_copy_str(cfg->server, sizeof(cfg->server), LLM_DEFAULT_SERVER);
            return FM_OK;
        }
        int rc = parse_server(env, buf, sizeof(buf), err);
        if (rc < 0) {
            char msg[FM_ERR_LEN];
            llm_copy_str(msg, sizeof(msg), err ? err->msg : "");
            return fm_err_set(err, rc, "OLLAMA_HOST: %s", msg);
        }
    } else {
        int rc = parse_server(url, buf, sizeof(buf), err);
        if (rc < 0)
            return rc;
    }
    llm_copy_str(cfg->server, sizeof(cfg->server), buf);
    return FM_OK;
}

int llm_keep_alive_check(const char *dur, const char *what, struct fm_err *err)
{
    const char *p = dur;
    if (*p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (digits && *p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        p += frac ? frac + 1 : 0;
    }
    if (strcmp(p, "ms") == 0 || strcmp(p, "s") == 0 || strcmp(p, "m") == 0 || strcmp(p, "h") == 0)
        p += strlen(p);
    if (!digits || *p || strlen(dur) >= sizeof(((struct llm_config *)0)->keep_alive))
        return fm_err_set(err, FM_EINVAL,
                          "%s: expected a duration such as 30s, 10m, 1h or -1, got '%s'", what,
                          dur);
    return FM_OK;
}

int llm_api_parse(const char *s, enum llm_api *out, struct fm_err *err)
{
    if (strcmp(s, "ollama") == 0) {
        *out = LLM_API_OLLAMA;
        return FM_OK;
    }
    if (strcmp(s, "openai") == 0) {
        *out = LLM_API_OPENAI;
        return FM_OK;
    }
    return fm_err_set(err, FM_EINVAL, "unknown API '%s' (use ollama or openai)", s);
}

const char *llm_api_name(enum llm_api api)
{
    return api == LLM_API_OPENAI ? llm_api_openai.name : llm_api_ollama.name;
}
