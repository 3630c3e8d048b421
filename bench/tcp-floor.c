/* The subscriber benchmark's kernel floor: a C program that holds N loopback TCP connections and, for each event of a
 * turn, write()s one 128-byte frame to every socket: no WebSocket, no GraphQL, no JavaScript on the sending side.
 * What one-message-per-subscriber fan-out costs this machine's kernel. Driven by tcp-floor.ts over stdin/stdout:
 *   prints "READY <port>", accepts N connections, then for each line "turn <offset ms> ..." sends the turn's events at
 *   those offsets (each frame starts with its send time, epoch ms) and prints "SENT <cpu µs> <send loop ms>...". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME 128

static double epoch_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: tcp-floor <connections>\n"), 2;
  int n = atoi(argv[1]), one = 1;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096) || getsockname(listener, (struct sockaddr *)&addr, &len))
    return perror("tcp-floor: listen"), 1;
  printf("READY %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  int *fds = malloc(sizeof(int) * n);
  for (int i = 0; i < n; i++) {
    if ((fds[i] = accept(listener, NULL, NULL)) < 0) return perror("tcp-floor: accept"), 1;
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "turn", 4) != 0) break;
    double offsets[64];
    int events = 0;
    for (char *p = strtok(line + 4, " \n"); p && events < 64; p = strtok(NULL, " \n")) offsets[events++] = atof(p);
    double loops[64], start = epoch_ms(), cpu0 = cpu_us();
    for (int e = 0; e < events; e++) {
      double wait = start + offsets[e] - epoch_ms();
      if (wait > 0) {
        struct timespec ts = {(time_t)(wait / 1e3), (long)((wait - (time_t)(wait / 1e3) * 1e3) * 1e6)};
        nanosleep(&ts, NULL);
      }
      char frame[FRAME];
      memset(frame, ' ', FRAME);
      double sent = epoch_ms();
      int k = snprintf(frame, FRAME, "%.3f", sent);
      frame[k] = ' ';
      frame[FRAME - 1] = '\n';
      for (int i = 0; i < n; i++)
        if (write(fds[i], frame, FRAME) != FRAME) return perror("tcp-floor: write"), 1;
      loops[e] = epoch_ms() - sent;
    }
    printf("SENT %.0f", cpu_us() - cpu0);
    for (int e = 0; e < events; e++) printf(" %.3f", loops[e]);
    printf("\n");
    fflush(stdout);
  }
  return 0;
}
