/*
 * uno_pty: runs an Arduino Uno firmware (ATmega328P at 16 MHz, an ELF) in simavr with UART0 on a
 * pseudo-terminal, so host software opens it like a board on /dev/ttyACM0.
 *
 *   uno_pty FIRMWARE.elf [--link PATH] [--adc0 MILLIVOLTS] [--wait] [--fast]
 *
 * stdout, one line each:  "PTY /dev/pts/N", then "LINK PATH" (when --link), then "READY" once the
 *                         MCU runs; while running "LED 0" / "LED 1" when pin 13 (PB5) changes.
 * --link PATH   a symlink to the pty (a stable name, like /dev/serial/by-id/...); removed on exit.
 * --adc0 MV     the voltage on A0 in millivolts (AVCC = AREF = 5000 mV), default 0.
 * --wait        start the MCU only after a line (or EOF) on stdin: the host opens the port first,
 *               since opening it discards what was already received (tcflush).
 * --fast        do not throttle to real time (millis() then runs ahead of the wall clock).
 * SIGUSR1       resets the MCU (what DTR does to a real Uno).
 * SIGTERM/SIGINT, SIGKILL, or the parent's death: the pty closes, the host sees a hang-up (unplug).
 *
 * Part of Junction's tests; links simavr (GPL-3) and stays a separate program.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_ioport.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_irq.h"
#include "uart_pty.h"

static volatile sig_atomic_t stopping, resetting;

static void on_stop(int sig) { (void)sig; stopping = 1; }
static void on_reset(int sig) { (void)sig; resetting = 1; }

static double wall_seconds(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PB5 (Arduino pin 13) changed: the simulation thread calls this. */
static void on_led(struct avr_irq_t *irq, uint32_t value, void *param) {
	(void)irq; (void)param;
	printf("LED %u\n", value ? 1u : 0u);
	fflush(stdout);
}

static void usage(const char *self) {
	fprintf(stderr, "usage: %s FIRMWARE.elf [--link PATH] [--adc0 MILLIVOLTS] [--wait] [--fast]\n", self);
	exit(2);
}

int main(int argc, char *argv[]) {
	const char *elf = NULL, *link = NULL;
	int fast = 0, wait_stdin = 0;
	long adc0 = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fast")) fast = 1;
		else if (!strcmp(argv[i], "--wait")) wait_stdin = 1;
		else if (!strcmp(argv[i], "--link") && i + 1 < argc) link = argv[++i];
		else if (!strcmp(argv[i], "--adc0") && i + 1 < argc) adc0 = strtol(argv[++i], NULL, 10);
		else if (argv[i][0] == '-' || elf) usage(argv[0]);
		else elf = argv[i];
	}
	if (!elf || adc0 < 0 || adc0 > 5000) usage(argv[0]);

	/* Die with the test runner instead of lingering as an orphan. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);

	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(elf, &fw) != 0) { fprintf(stderr, "uno_pty: cannot read %s\n", elf); return 1; }
	/* avr-gcc ELFs built without simavr's .mmcu section say nothing about the part or its clock. */
	if (!fw.mmcu[0]) snprintf(fw.mmcu, sizeof fw.mmcu, "atmega328p");
	if (!fw.frequency) fw.frequency = 16000000;
	avr_t *avr = avr_make_mcu_by_name(fw.mmcu);
	if (!avr) { fprintf(stderr, "uno_pty: simavr does not know %s\n", fw.mmcu); return 1; }
	avr_init(avr);
	avr_load_firmware(avr, &fw);
	avr->log = LOG_WARNING;
	avr->vcc = avr->avcc = avr->aref = 5000;
	const avr_cycle_count_t hz = fw.frequency;

	/*
	 * uart_pty_init starts an I/O thread that select()s on the pty; a signal delivered to that
	 * thread ends its loop and silently stops the UART. It inherits the signal mask of the thread
	 * that creates it, so block ours around its creation: they then always go to this thread.
	 */
	sigset_t ours;
	sigemptyset(&ours);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGUSR1);
	sigaddset(&ours, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ours, NULL);
	static uart_pty_t pty;
	uart_pty_init(avr, &pty);
	pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
	uart_pty_connect(&pty, '0');
	/* uart_pty_connect also points the fixed /tmp/simavr-uart0 at this pty; with our own link,
	 * remove that one if it is still ours, so parallel instances do not fight over it. */
	if (link) {
		char target[sizeof pty.pty.slavename];
		ssize_t n = readlink("/tmp/simavr-uart0", target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			if (!strcmp(target, pty.pty.slavename)) unlink("/tmp/simavr-uart0");
		}
		unlink(link);
		if (symlink(pty.pty.slavename, link) != 0) { perror(link); _exit(1); }
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_reset;
	sigaction(SIGUSR1, &sa, NULL);

	avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0), (uint32_t)adc0);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 5), on_led, NULL);

	printf("PTY %s\n", pty.pty.slavename);
	if (link) printf("LINK %s\n", link);
	fflush(stdout);
	if (wait_stdin) {
		char go[64];
		if (!fgets(go, sizeof go, stdin)) { /* EOF: start anyway */ }
	}
	printf("READY\n");
	fflush(stdout);

	double t0 = wall_seconds();
	avr_cycle_count_t base = avr->cycle, checked = base;
	int state = cpu_Running;
	while (!stopping && state != cpu_Done && state != cpu_Crashed) {
		if (resetting) {
			resetting = 0;
			avr_reset(avr);
			avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0), (uint32_t)adc0);
			t0 = wall_seconds();
			base = checked = avr->cycle;
		}
		state = avr_run(avr);
		/* Real time: every simulated millisecond, sleep while ahead of the wall clock. */
		if (!fast && avr->cycle - checked >= hz / 1000) {
			checked = avr->cycle;
			double ahead = (double)(avr->cycle - base) / (double)hz - (wall_seconds() - t0);
			if (ahead > 0.001) usleep((useconds_t)(ahead * 1e6));
			else if (ahead < -0.25) { t0 = wall_seconds(); base = avr->cycle; } /* starved: do not sprint to catch up */
		}
	}
	/*
	 * No uart_pty_stop(): in simavr 1.6 it can hang in pthread_join (the I/O thread misses its
	 * SIGINT and spins on the closed descriptor). _exit() ends the thread and closes the pty master;
	 * the host sees a hang-up, as when a USB board is pulled.
	 */
	if (link) unlink(link);
	fprintf(stderr, "uno_pty: stopped (state %d) after %.3f s of simulated time\n", state,
		(double)(avr->cycle - base) / (double)hz);
	_exit(state == cpu_Crashed ? 1 : 0);
}
