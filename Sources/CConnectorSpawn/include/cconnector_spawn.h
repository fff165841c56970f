#ifndef CCONNECTOR_SPAWN_H
#define CCONNECTOR_SPAWN_H
#include <spawn.h>

/* posix_spawn_file_actions_addchdir_np is a GNU extension that Swift's Glibc module does not
   export; this wrapper makes it callable. Returns 0 or an errno value (ENOSYS when unavailable). */
int cconnector_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);

/* pipe2(fds, O_CLOEXEC): both ends close on exec, so a connector never inherits another's pipes. */
int cconnector_pipe_cloexec(int fds[2]);

/* fcntl(fd, F_SETPIPE_SZ, size) on Linux: the pipe's capacity (best effort). Returns the new
   capacity, or -1 (always -1 where pipes cannot be resized). */
int cconnector_pipe_grow(int fd, int size);
/* pidfd_open(pid, 0) on Linux 5.3+: a descriptor (close-on-exec) that poll(2) reports readable
   once the process has exited, reaped or not. Returns -1 (errno set) where unavailable. */
int cconnector_pidfd_open(int pid);
#endif
