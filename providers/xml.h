/*
 * xml.h — the one reader of the XML APIs' replies (Route 53, AWS STS,
 * Namecheap): expat into a flat list of elements, every count and length a
 * reply controls capped.
 *
 * expat checks well-formedness and decodes entities, character references,
 * CDATA, encodings and namespaces (elements and attributes are matched by
 * local name). A DTD is refused, so a reply declares no entity of its own,
 * and expat's protection against entity expansion stays on as well. A reply
 * cut short never parses: its root element would not be closed. Texts are
 * wiped when freed, and so is expat's own memory: an STS reply holds a
 * secret key and a session token.
 */
#ifndef ZP_PROVIDERS_XML_H
#define ZP_PROVIDERS_XML_H

#include <stddef.h>

/*
 * A reply's elements in document order. The elements inside e[i] are
 * e[i + 1] up to e[e[i].end - 1]; the next sibling of e[i] is e[e[i].end].
 */
struct zp_xml_elem {
    char *name;   /* the local name */
    char *text;   /* its own character data, decoded; "" when none */
    size_t end;   /* one past its last descendant */
    size_t nattr; /* attr: name, value, … (local names, decoded values) */
    char **attr;
};

struct zp_xml {
    size_t n;
    struct zp_xml_elem *e;
};

/* What a reply may hold. */
struct zp_xml_limits {
    size_t depth, elems;       /* nesting; elements in all */
    size_t attrs, name, value; /* attributes per element; the length of a name; of a value */
    size_t text;               /* bytes of one element's text */
    /* The phrase for a DTD ("a DTD (<!DOCTYPE>), which AWS replies do not have"). */
    const char *markup;
    int strict; /* CDATA and processing instructions are refused too, with the same phrase */
};

/*
 * Reads body with expat. -1 with a phrase in why (whysz may be 0) when it is
 * empty, cut short, not XML or not well-formed (line and column named), or
 * past a limit. x is empty then; free it either way.
 */
int zp_xml_parse(const char *body, size_t len, const struct zp_xml_limits *lim, struct zp_xml *x,
                 char *why, size_t whysz);
/* Frees x, wiping the texts and values. */
void zp_xml_free(struct zp_xml *x);
/* The index of the first element called name in e[from, to), or -1. */
long zp_xml_find(const struct zp_xml *x, size_t from, size_t to, const char *name);
/* The text of the first element called name inside e[i]; NULL when there is none. */
const char *zp_xml_get(const struct zp_xml *x, size_t i, const char *name);
/* The value of e[i]'s attribute name; NULL when it has none. */
const char *zp_xml_attr(const struct zp_xml *x, size_t i, const char *name);
/* The only child of e[i] called name, or -1 with *count saying how many there are (0 or 2+). */
long zp_xml_child(const struct zp_xml *x, size_t i, const char *name, int *count);
/*
 * The text of the first element called name in a reply, into out: 1 when the
 * reply is well-formed XML within lim with such an element, whose text fits.
 */
int zp_xml_first(const char *body, size_t len, const struct zp_xml_limits *lim, const char *name,
                 char *out, size_t outsz);

#endif
