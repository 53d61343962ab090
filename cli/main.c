/* cli/main.c - flowmimic's entry point: global options and the subcommand table. */
#include "cli/cli.h"

#include "common/log.h"

#include <stdio.h>
#include <string.h>

struct cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
    {"capture", cmd_capture, "capture live traffic on an interface into a pcap file"},
    {"flows", cmd_flows, "list the flows of a capture"},
    {"estimate", cmd_estimate,
     "fit a model of payload length and inter-arrival time per flow side"},
    {"show", cmd_show, "print a model as tables"},
    {"generate", cmd_generate, "draw packets from a model into a pcap file"},
    {"replay", cmd_replay, "put a model or a capture on the wire, at the right moments"},
    {"receive", cmd_receive, "receive flows and report loss, jitter, delay, gaps and sizes"},
    {"agents", cmd_agents, "let LLM agents propose and review variants of a model"},
    {"compare", cmd_compare, "compare two captures, or a capture and a model, flow by flow"},
    {"convert", cmd_convert, "convert a JSON packet trace to pcap, or a capture to JSON"},
    {"validate", cmd_validate, "check a JSON trace or a capture for protocol correctness"},
    {"help", cmd_help, "show help for a command: flowmimic help COMMAND"},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
    fprintf(f, "Usage: flowmimic [-v|-vv|-q] <command> [options] args\n"
               "       flowmimic --version | --help | help <command>\n\n"
               "flowmimic learns how a real UDP video or voice flow behaves from a capture,\n"
               "fits a statistical model of it and plays it back onto a network.\n\nCommands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nGlobal options:\n"
               "  -v, --verbose  more messages (-vv: debug)\n"
               "  -q, --quiet    errors only\n"
               "  --version      print the version and exit\n"
               "  -h, --help     this text\n\n"
               "Exit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n"
               "Example: flowmimic flows capture.pcap && flowmimic estimate capture.pcap\n");
}

static const struct cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < NCMDS; i++) {
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    }
    return NULL;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const struct cmd *c = find_cmd(argv[1]);
    if (!c || c->run == cmd_help) {
        fprintf(stderr, "flowmimic help: unknown command '%s'; try 'flowmimic --help'\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    char *sub[] = {argv[1], (char *)"--help", NULL};
    return c->run(2, sub);
}

int main(int argc, char **argv)
{
    int i = 1;
    int verbose = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("flowmimic %s\n", FM_VERSION);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            verbose = -1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = verbose < 0 ? 1 : verbose + 1;
        } else if (strcmp(a, "-vv") == 0) {
            verbose = 2;
        } else {
            fprintf(stderr, "flowmimic: unknown option '%s'; try 'flowmimic --help'\n", a);
            return CLI_EXIT_USAGE;
        }
    }
    fm_log_set_level(verbose < 0    ? FM_LOG_ERROR
                     : verbose == 0 ? FM_LOG_WARN
                     : verbose == 1 ? FM_LOG_INFO
                                    : FM_LOG_DEBUG);
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const struct cmd *c = find_cmd(argv[i]);
    if (!c) {
        fprintf(stderr, "flowmimic: unknown command '%s'; try 'flowmimic --help'\n", argv[i]);
        return CLI_EXIT_USAGE;
    }
    return c->run(argc - i, argv + i);
}
