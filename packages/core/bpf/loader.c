// SPDX-License-Identifier: GPL-2.0
/*
 * Runs one iterator program with link parameters, which `bpftool iter pin`
 * cannot pass for task/cgroup targets, and copies the iterator's output to
 * stdout. Usage:
 *   loader OBJ                       no parameter
 *   loader OBJ pid N | tid N         task, task_file, task_vma
 *   loader OBJ cgroup_id N ORDER     cgroup (ORDER: enum bpf_cgroup_iter_order)
 * Exits with the errno of the failing step (so callers can name it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int fail(const char *what, int err)
{
	if (err < 0)
		err = -err;
	if (!err)
		err = EINVAL;
	fprintf(stderr, "loader: %s: %s (errno %d)\n", what, strerror(err), err);
	return err;
}

int main(int argc, char **argv)
{
	union bpf_iter_link_info linfo;
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	static char buf[1 << 16];
	ssize_t n;
	int fd, err;

	if (argc < 2)
		return fail("usage: loader OBJ [pid N|tid N|cgroup_id N ORDER]", EINVAL);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	memset(&linfo, 0, sizeof(linfo));
	if (argc >= 4 && !strcmp(argv[2], "pid"))
		linfo.task.pid = strtoul(argv[3], NULL, 0);
	else if (argc >= 4 && !strcmp(argv[2], "tid"))
		linfo.task.tid = strtoul(argv[3], NULL, 0);
	else if (argc >= 5 && !strcmp(argv[2], "cgroup_id")) {
		linfo.cgroup.cgroup_id = strtoull(argv[3], NULL, 0);
		linfo.cgroup.order = strtoul(argv[4], NULL, 0);
	} else if (argc != 2)
		return fail("bad link parameter", EINVAL);
	if (argc > 2) {
		opts.link_info = &linfo;
		opts.link_info_len = sizeof(linfo);
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return fail("open object", errno);
	err = bpf_object__load(obj);
	if (err)
		return fail("load", err);
	prog = bpf_object__next_program(obj, NULL);
	if (!prog)
		return fail("no program in object", ENOENT);
	link = bpf_program__attach_iter(prog, &opts);
	if (!link)
		return fail("attach_iter", errno);
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return fail("iter_create", errno);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, n - off);
			if (w < 0)
				return fail("write", errno);
			off += w;
		}
	}
	if (n < 0)
		return fail("read", errno);
	return 0;
}
