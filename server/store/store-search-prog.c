/* The store's protocol-neutral search program (store-mail-search.h):
 * building and freeing its nodes. No SQL here, so a gateway's translator
 * and its unit test link it without the database. */
#include "autoconf.h"
#include "store-mail-search.h"

#include <stdlib.h>

struct store_search_node *store_search_node_new(struct store_search_node *parent,
						enum store_search_op op)
{
	struct store_search_node *n = xcalloc(1, sizeof(*n));
	n->op = op;
	if (parent != NULL) {
		struct store_search_node **p = &parent->children;
		while (*p != NULL)
			p = &(*p)->next;
		*p = n;
	}
	return n;
}

static void node_free(struct store_search_node *n)
{
	while (n != NULL) {
		struct store_search_node *next = n->next;
		node_free(n->children);
		free(n->header);
		free(n->str);
		free(n->modseq_entry);
		free(n->ranges);
		free(n);
		n = next;
	}
}

void store_search_program_free(struct store_search_program **prog)
{
	if (*prog == NULL)
		return;
	node_free((*prog)->root);
	free(*prog);
	*prog = NULL;
}
