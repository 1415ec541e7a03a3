/*
 * hook.c — the ACME clients' hook protocols, so that a client runs the
 * zoneproof binary itself: lego's exec provider (`present|cleanup NAME
 * VALUE`) and certbot's manual hooks (certbot-auth, certbot-cleanup, which
 * read CERTBOT_DOMAIN and CERTBOT_VALIDATION). They only supply the name and
 * the value; cli.c's present runs the challenge. acme.sh's hook is
 * contrib/acme.sh/dns_zoneproof.sh, which runs `zoneproof present|cleanup`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dname.h"
#include "base/log.h"
#include "cmd/cmd.h"

static const char certbot_help[] =
    "usage: zoneproof certbot-auth|certbot-cleanup [flags]\n"
    "\n"
    "certbot's manual hooks: certbot-auth adds CERTBOT_VALIDATION as a TXT value at\n"
    "_acme-challenge.CERTBOT_DOMAIN and waits until every authoritative nameserver serves it;\n"
    "certbot-cleanup removes exactly that value. For example:\n"
    "\n"
    "  certbot certonly --manual --preferred-challenges dns \\\n"
    "      --manual-auth-hook \"zoneproof certbot-auth\" \\\n"
    "      --manual-cleanup-hook \"zoneproof certbot-cleanup\" -d example.com -d '*.example.com'\n"
    "\n"
    "  --config FILE      configuration (default $ZONEPROOF_CONFIG or " ZP_DEFAULT_CONFIG ")\n"
    "  --zone ZONE        the zone to write in (default: the zone DNS says holds the name)\n"
    "  --provider NAME    use this provider instance instead of routing by dnsZones\n"
    "  --state-dir DIR    journal every value written in DIR (see zoneproof present --help)\n"
    "  --log-level LEVEL  debug, info, warn or error (default); logs go to stderr\n";

static int is_certbot(const char *cmd)
{
    return strncmp(cmd, "certbot-", 8) == 0;
}

const char *zp_cmd_hook_help(const char *cmd, const char *help)
{
    return is_certbot(cmd) ? certbot_help : help;
}

static const char *certbot_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        fprintf(stderr,
                "zoneproof: %s is not set: certbot sets it for its --manual-auth-hook and "
                "--manual-cleanup-hook; run by hand, pass --fqdn and --key to zoneproof "
                "present instead\n",
                name);
        return NULL;
    }
    return v;
}

/*
 * certbot gives the identifier without "*." (both example.com and
 * *.example.com arrive as example.com), so the name is always
 * _acme-challenge.<CERTBOT_DOMAIN>.
 */
static int certbot_args(int n, char **args, const char **fqdn, const char **key)
{
    static char name[ZP_DNAME_MAX + 32];
    const char *domain, *left;
    int len;

    if (n > 0) {
        fprintf(stderr,
                "zoneproof: unexpected argument \"%s\": certbot's hooks take the name and the "
                "value from CERTBOT_DOMAIN and CERTBOT_VALIDATION\n",
                args[0]);
        return -1;
    }
    if ((domain = certbot_env("CERTBOT_DOMAIN")) == NULL ||
        (*key = certbot_env("CERTBOT_VALIDATION")) == NULL)
        return -1;
    if (strncmp(domain, "*.", 2) == 0)
        domain += 2;
    len = snprintf(name, sizeof(name), "_acme-challenge.%s", domain);
    if (len < 0 || (size_t)len >= sizeof(name)) {
        fprintf(stderr, "zoneproof: CERTBOT_DOMAIN is longer than a domain name can be\n");
        return -1;
    }
    *fqdn = name;
    /* certbot runs the hook once per challenge and validates after the last one. */
    left = getenv("CERTBOT_REMAINING_CHALLENGES");
    if (left != NULL && *left != '\0')
        zp_log(ZP_LOG_DEBUG, "certbot hook", ZP_S("fqdn", name), ZP_S("remaining_challenges", left),
               ZP_END);
    return 1;
}

int zp_cmd_hook_args(const char *cmd, int n, char **args, const char **fqdn, const char **key)
{
    if (is_certbot(cmd))
        return certbot_args(n, args, fqdn, key);
    /* lego's exec provider, EXEC_MODE unset: `EXEC_PATH present|cleanup FQDN VALUE`. */
    if (n == 0)
        return 0;
    if (n != 2) {
        fprintf(stderr,
                "zoneproof: %s takes NAME VALUE (lego's exec provider, EXEC_MODE unset: RAW is "
                "not supported) or --fqdn NAME --key VALUE\n",
                cmd);
        return -1;
    }
    *fqdn = args[0];
    *key = args[1];
    return 1;
}
