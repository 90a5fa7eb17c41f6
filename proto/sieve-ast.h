/* The compiled form of a Sieve script, shared by the compiler (proto/sieve.c)
 * and the interpreter (server/deliver/sieve-exec.c). Not a public API. */
#ifndef CAIRN_SIEVE_AST_H
#define CAIRN_SIEVE_AST_H

#include "sieve.h"

#endif
