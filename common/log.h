/* common/log.h - leveled messages to stderr as "flowmimic: error: ...".
 * The level is process-wide, set once by cli/ from -q/-v/-vv before any work starts;
 * stdout is never written here. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum fm_log_level { FM_LOG_ERROR = 0, FM_LOG_WARN, FM_LOG_INFO, FM_LOG_DEBUG };

void fm_log_set_level(enum fm_log_level level);
enum fm_log_level fm_log_get_level(void);

void fm_log_msg(enum fm_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define fm_log_error(...) fm_log_msg(FM_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define fm_log_warn(...)  fm_log_msg(FM_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define fm_log_info(...)  fm_log_msg(FM_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define fm_log_debug(...) fm_log_msg(FM_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
