/* shopcrm: command-line reports over an orders CSV file (RFM segments, KPIs,
 * cohorts).
 *
 *   shopcrm rfm FILE.csv [options]      per-customer RFM scores + segment summary
 *   shopcrm kpi FILE.csv [options]      shop KPIs of a time window (retention too)
 *   shopcrm cohorts FILE.csv [options]  cohort matrix: table, JSON, long CSV, SVG heatmap
 *
 * This file is the dispatcher: main and the table of commands. Each command
 * lives in its own file (cmd_*.c: its options, their checks, its run); the
 * argument parsing, the input options and the output helpers they share are
 * in args.c, input.c and output.c (see cli.h).
 *
 * Exit status: 0 success, 1 data error (file, parse, analysis), 2 usage error.
 * Diagnostics go to stderr as "shopcrm: <message>"; results to stdout.
 * With SHOPCRM_TIMING set in the environment, phase timings go to stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The commands (one file each, tools/cmd_NAME.c), in the order of
 * 'shopcrm --help'. Adding one: docs/cli.md, "Adding a command". */
extern const struct cli_command cmd_rfm, cmd_kpi, cmd_cohorts;

const struct cli_command *const cli_commands[] = {
    &cmd_rfm,
    &cmd_kpi,
    &cmd_cohorts,
};
const size_t cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];

int main(int argc, char **argv)
{
    const struct cli_command *cmd = NULL;
    struct cli_input in;
    int rc = cli_parse(&cmd, &in, argc, argv);
    if (rc >= 0)
        return rc;
    rc = cmd->run(&in);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        msg("cannot write the output: %s", strerror(errno));
        return EXIT_DATA;
    }
    return rc;
}
