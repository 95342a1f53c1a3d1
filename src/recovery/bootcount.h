/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The GRUB boot counter's state, for show-config: what the generated
 * grub.cfg keeps in GRUB's environment block (kairos_boot_tries, the N of
 * GRUB_KAIROS_RECOVERY_AFTER_FAILED_BOOTS=, and kairos_boot_left). */

#include <stdio.h>

/* /boot/grub/grubenv, or $KAIROS_GRUBENV. */
const char *bootcount_grubenv_path(void);

/* Comment lines saying N and how many boots are left, or that there is no
 * counter, to f. */
void bootcount_describe(FILE *f);
