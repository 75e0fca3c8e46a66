/*
 * A multi-threaded process for the end-to-end tests: starts N threads that each run a
 * little, joins them, exits with the given code. With "busy" as third argument the
 * threads spin and main exits under them, so exit_group() ends every thread at once.
 * A sensor must report one process (one exec, one exit), never one per thread.
 * usage: fl-threads NTHREADS EXIT_CODE [busy] [marker...]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *spin(void *arg)
{
	volatile unsigned long x = (unsigned long)arg;

	for (;;)
		x++;
	return NULL;
}

static void *work(void *arg)
{
	volatile unsigned long x = 0;

	for (unsigned long i = 0; i < 100000; i++)
		x += i ^ (unsigned long)arg;
	usleep(2000);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	int n, code;

	if (argc < 3) {
		fprintf(stderr, "usage: fl-threads NTHREADS EXIT_CODE [marker...]\n");
		return 2;
	}
	n = atoi(argv[1]);
	code = atoi(argv[2]);
	if (n < 1 || n > 64) {
		fprintf(stderr, "fl-threads: NTHREADS must be 1..64\n");
		return 2;
	}
	int busy = argc > 3 && !strcmp(argv[3], "busy");

	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, busy ? spin : work, (void *)(long)i)) {
			perror("pthread_create");
			return 2;
		}
	if (busy) {
		usleep(20000); /* let every thread get onto a CPU */
		exit(code);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return code;
}
