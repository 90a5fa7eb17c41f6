/* Sieve matching (skeleton). */
#include "sieve-ast.h"
extern int sieve_match_placeholder;
int sieve_match_placeholder;
