/*
 * help.c - cmdtab.c's tables rendered for people: --help and `COMMAND
 * --help` as text wrapped at 78 columns, and jalinctl(8) as troff.
 *
 * Both renderings walk the same tables in the same order, section by
 * section (NAME, SYNOPSIS, DESCRIPTION, COMMANDS, OPTIONS, EXIT STATUS,
 * ENVIRONMENT, FILES, EXAMPLES, SEE ALSO), so what --help says and what
 * the manual says are the same words.
 */
#include <stdbool.h>
#include <string.h>

#include "cmdtab.h"
#include "limits.h"

/* Length of the next word; "[--timeout SECONDS]" is one word. */
static size_t
word_len(const char *s)
{
	size_t n = 0;
	int depth = 0;

	for (; s[n] != '\0' && (depth > 0 || s[n] != ' '); n++) {
		if (s[n] == '[')
			depth++;
		else if (s[n] == ']' && depth > 0)
			depth--;
	}
	return n;
}

/*
 * Print text wrapped at 78 columns: the first line indented by first (or,
 * when at > 0, continuing a line that already has at columns), the others
 * by indent. Words are never split.
 */
static void
wrap2(FILE *fp, const char *text, int first, int indent, int at)
{
	int col = at, in = at > 0 ? at : first;
	bool start = true;

	while (*text != '\0') {
		size_t w = word_len(text);
		if (!start && col > in && col + 1 + (int)w > 78) {
			fputc('\n', fp);
			col = 0;
			in = indent;
		}
		if (col == 0)
			col = fprintf(fp, "%*s", in, "");
		else if (!start)
			col += fprintf(fp, " ");
		col += fprintf(fp, "%.*s", (int)w, text);
		start = false;
		text += w;
		text += strspn(text, " ");
	}
	fputc('\n', fp);
}

static void
wrap(FILE *fp, const char *text, int indent)
{
	wrap2(fp, text, indent, indent, 0);
}

const struct opt *
ctl_copt(int id)
{
	for (size_t i = 0; i < ctl_ncopts; i++) {
		if (ctl_copts[i].id == id)
			return &ctl_copts[i];
	}
	return NULL;
}

static void
print_opt(FILE *fp, const struct opt *o, int indent)
{
	if (o->id < 256)
		fprintf(fp, "%*s-%c, --%s%s%s\n", indent, "", o->id, o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else
		fprintf(fp, "%*s--%s%s%s\n", indent, "", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	wrap(fp, o->help, indent + 4);
}

void
help_synopsis(FILE *fp, const struct cmd *c, const char *lead)
{
	fprintf(fp, "%s%s%s%s", lead, c->name, *c->args ? " " : "", c->args);
	for (size_t i = 0; i < ctl_ncopts; i++) {
		if (c->opts & OPT_BIT(ctl_copts[i].id))
			fprintf(fp, " [--%s%s%s]", ctl_copts[i].name,
			    ctl_copts[i].arg ? " " : "",
			    ctl_copts[i].arg ? ctl_copts[i].arg : "");
	}
	fputc('\n', fp);
}

static void
cmd_body(FILE *fp, const struct cmd *c, int indent)
{
	wrap(fp, c->summary, indent);
	wrap(fp, c->help, indent);
	for (size_t i = 0; i < ctl_ncopts; i++) {
		if (c->opts & OPT_BIT(ctl_copts[i].id))
			print_opt(fp, &ctl_copts[i], indent);
	}
}

static void
items(FILE *fp, const char *title, const struct item *it, size_t n)
{
	fprintf(fp, "%s\n", title);
	for (size_t i = 0; i < n; i++) {
		if (strlen(it[i].tag) < 14) {
			/* short tag: the text follows on the same line */
			int w = (int)strlen(it[i].tag);
			fprintf(fp, "    %s%*s", it[i].tag, 14 - w, "");
			wrap2(fp, it[i].text, 0, 18, 18);
		} else {
			fprintf(fp, "    %s\n", it[i].tag);
			wrap(fp, it[i].text, 8);
		}
	}
	fputc('\n', fp);
}

void
help_full(FILE *fp)
{
	fprintf(fp, "NAME\n    %s\n\nSYNOPSIS\n", ctl_name_line);
	for (size_t i = 0; ctl_synopsis[i] != NULL; i++)
		wrap2(fp, ctl_synopsis[i], 4, 13, 0);
	fputs("\nDESCRIPTION\n", fp);
	for (size_t i = 0; ctl_description[i] != NULL; i++) {
		wrap(fp, ctl_description[i], 4);
		fputc('\n', fp);
	}
	fputs("COMMANDS\n", fp);
	for (size_t i = 0; i < ctl_ncmds; i++) {
		help_synopsis(fp, &ctl_cmds[i], "    ");
		cmd_body(fp, &ctl_cmds[i], 8);
		fputc('\n', fp);
	}
	fputs("OPTIONS\n", fp);
	for (size_t i = 0; i < ctl_ngopts; i++)
		print_opt(fp, &ctl_gopts[i], 4);
	fputc('\n', fp);
	items(fp, "EXIT STATUS", ctl_exit, ctl_nexit);
	items(fp, "ENVIRONMENT", ctl_env, ctl_nenv);
	items(fp, "FILES", ctl_files, ctl_nfiles);
	fputs("EXAMPLES\n", fp);
	for (size_t i = 0; ctl_examples[i] != NULL; i++) {
		const char *s = ctl_examples[i], *nl;
		for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
			fprintf(fp, "    %.*s\n", (int)(nl - s), s);
		fprintf(fp, "    %s\n", s);
	}
	fputs("\nSEE ALSO\n", fp);
	wrap(fp, ctl_see_also, 4);
}

void
help_cmd(FILE *fp, const struct cmd *c)
{
	fputs("SYNOPSIS\n", fp);
	help_synopsis(fp, c,
	    c->fn == cmd_federation
	        ? "    jalinctl [-c CONFIG] [--cert FILE --key "
	          "FILE --ca FILE] [--json] "
	        : "    jalinctl [-c CONFIG | -s SOCKET | --db "
	          "DIR | --remote HOST:PORT] [--json] ");
	fputs("\nDESCRIPTION\n", fp);
	cmd_body(fp, c, 4);
	fputs("\nSee jalinctl --help for the global options and exit "
	      "status.\n",
	    fp);
}

void
help_list(FILE *fp)
{
	fputs("commands:\n", fp);
	for (size_t i = 0; i < ctl_ncmds; i++)
		fprintf(
		    fp, "  %-10s %s\n", ctl_cmds[i].name, ctl_cmds[i].summary);
	fputs("see jalinctl --help\n", fp);
}

/* --- troff ---------------------------------------------------------- */

/*
 * Text for troff: backslashes and dashes escaped (a "-" in a man page is
 * a hyphen that may become a typographic one; options must stay
 * minus signs people can paste), and a line that would start with '.' or
 * '\'' (a request) guarded with \&.
 */
static void
esc(FILE *fp, const char *s)
{
	bool bol = true;

	for (; *s != '\0'; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", fp);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\e", fp);
		else if (*s == '-')
			fputs("\\-", fp);
		else
			fputc(*s, fp);
	}
}

/* A paragraph of text: its own line(s) after a request. */
static void
man_text(FILE *fp, const char *s)
{
	esc(fp, s);
	fputc('\n', fp);
}

/* \fB--name\fR \fIARG\fR */
static void
man_optname(FILE *fp, const struct opt *o)
{
	fputs("\\fB", fp);
	esc(fp, "--");
	esc(fp, o->name);
	fputs("\\fR", fp);
	if (o->arg != NULL) {
		fputs(" \\fI", fp);
		esc(fp, o->arg);
		fputs("\\fR", fp);
	}
}

static void
man_opt(FILE *fp, const struct opt *o)
{
	fputs(".TP\n", fp);
	if (o->id < 256)
		fprintf(fp, "\\fB\\-%c\\fR, ", o->id);
	man_optname(fp, o);
	fputc('\n', fp);
	man_text(fp, o->help);
}

static void
man_cmd(FILE *fp, const struct cmd *c)
{
	fputs(".SS \"", fp);
	esc(fp, c->name);
	if (*c->args) {
		fputs(" \\fI", fp);
		esc(fp, c->args);
		fputs("\\fR", fp);
	}
	for (size_t i = 0; i < ctl_ncopts; i++) {
		const struct opt *o = &ctl_copts[i];
		if (!(c->opts & OPT_BIT(o->id)))
			continue;
		fputs(" [", fp);
		man_optname(fp, o);
		fputs("]", fp);
	}
	fputs("\"\n", fp);
	man_text(fp, c->summary);
	fputs(".PP\n", fp);
	man_text(fp, c->help);
	for (size_t i = 0; i < ctl_ncopts; i++) {
		if (c->opts & OPT_BIT(ctl_copts[i].id))
			man_opt(fp, &ctl_copts[i]);
	}
}

static void
man_items(FILE *fp, const char *title, const struct item *it, size_t n)
{
	fprintf(fp, ".SH \"%s\"\n", title);
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n.B ", fp);
		man_text(fp, it[i].tag);
		man_text(fp, it[i].text);
	}
}

static void
man_synopsis(FILE *fp)
{
	fputs(".SH SYNOPSIS\n", fp);
	for (size_t i = 0; ctl_synopsis[i] != NULL; i++) {
		const char *s = ctl_synopsis[i];
		size_t w = strcspn(s, " ");
		fputs(i ? ".br\n.B " : ".B ", fp);
		fprintf(fp, "%.*s\n", (int)w, s);
		man_text(fp, s + w + strspn(s + w, " "));
	}
}

void
help_man(FILE *fp)
{
	fputs(".\\\" Generated by 'jalinctl --man' from tools/cmdtab.c: do "
	      "not edit;\n.\\\" change the tables and run 'make man'.\n",
	    fp);
	fputs(".TH JALINCTL 8 \"\" \"jalin " JALIN_VERSION
	      "\" \"System Manager's Manual\"\n.nh\n.ad l\n",
	    fp);
	fputs(".SH NAME\n", fp);
	man_text(fp, ctl_name_line);
	man_synopsis(fp);
	fputs(".SH DESCRIPTION\n", fp);
	for (size_t i = 0; ctl_description[i] != NULL; i++) {
		fputs(i ? ".PP\n" : "", fp);
		man_text(fp, ctl_description[i]);
	}
	fputs(".SH COMMANDS\n", fp);
	for (size_t i = 0; i < ctl_ncmds; i++)
		man_cmd(fp, &ctl_cmds[i]);
	fputs(".SH OPTIONS\n", fp);
	for (size_t i = 0; i < ctl_ngopts; i++)
		man_opt(fp, &ctl_gopts[i]);
	man_items(fp, "EXIT STATUS", ctl_exit, ctl_nexit);
	man_items(fp, "ENVIRONMENT", ctl_env, ctl_nenv);
	man_items(fp, "FILES", ctl_files, ctl_nfiles);
	fputs(".SH EXAMPLES\n.PP\n.nf\n.RS 4\n", fp);
	for (size_t i = 0; ctl_examples[i] != NULL; i++)
		man_text(fp, ctl_examples[i]);
	fputs(".RE\n.fi\n.SH \"SEE ALSO\"\n", fp);
	man_text(fp, ctl_see_also);
}
