/* Sieve lexer, parser and compiler tests: every example script of the RFCs
 * the implementation supports must compile; syntax and semantic errors are
 * reported with their line and column; static limits are enforced; the
 * lexer's strings (multi-line, dot-stuffing, escapes, encoded-character)
 * and numbers decode as RFC 5228 2.4 says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sieve.h"
#include "sieve-ast.h"

static struct sieve_script *compile_ok(const char *src)
{
	struct sieve_script *s = NULL;
	char *err = NULL;
	if (sieve_compile(src, strlen(src), NULL, &s, &err) < 0) {
		fprintf(stderr, "script:\n%s\nerror: %s\n", src, err);
		free(err);
		fail();
	}
	return s;
}

static char *compile_err(const char *src)
{
	struct sieve_script *s = NULL;
	char *err = NULL;
	if (sieve_compile(src, strlen(src), NULL, &s, &err) == 0) {
		fprintf(stderr, "script compiled but should not:\n%s\n", src);
		sieve_script_unref(&s);
		fail();
	}
	assert_null(s);
	return err;
}

static void expect_err(const char *src, const char *want)
{
	char *err = compile_err(src);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	free(err);
}

/* The example scripts of the RFCs (comments kept where they matter). */
static const char *const rfc_examples[] = {
	/* RFC 5228 9.1 (mixed-case identifiers and tags as the RFC writes them) */
	"#\n# Example Sieve Filter\n# Declare any optional features or extension used by the script\n#\n"
	"require [\"fileinto\"];\n\n"
	"#\n# Handle messages from known mailing lists\n"
	"# Move messages from IETF filter discussion list to filter mailbox\n#\n"
	"if header :is \"Sender\" \"owner-ietf-mta-filters@imc.org\"\n        {\n"
	"        fileinto \"filter\";  # move to \"filter\" mailbox\n        }\n"
	"#\n# Keep all messages to or from people in my company\n#\n"
	"elsif address :DOMAIN :is [\"From\", \"To\"] \"example.com\"\n        {\n"
	"        keep;               # keep in \"In\" mailbox\n        }\n\n"
	"#\n# Try and catch unsolicited email.  If a message is not to me,\n"
	"# or it contains a subject known to be used by spammers, reject it.\n#\n"
	"elsif anyof (NOT address :all :contains\n               [\"To\", \"Cc\", \"Bcc\"] \"me@example.com\",\n"
	"             header :matches \"subject\"\n               [\"*make*money*fast*\", \"*university*dipl*mas*\"])\n"
	"        {\n        discard;\n        }\nelse\n        {\n"
	"        # Move all other (non-company) mail to \"personal\"\n        # mailbox.\n"
	"        fileinto \"personal\";\n        }\n",
	/* RFC 5228 2.x snippets */
	"if size :over 500K { discard; }",
	"if header :contains :comparator \"i;octet\" \"Subject\" \"MAKE MONEY FAST\" { discard; }",
	"if header :contains \"Subject\" \"$$$\" { discard; }",
	"if anyof (not exists [\"From\",\"Date\"], header :contains \"from\" \"fool@example.com\") { discard; }",
	"if exists \"X-Cactus\" { redirect \"cactus@example.com\"; }",
	"if address :is :all \"from\" \"tim@example.com\" { discard; }",
	"require \"envelope\";\nif envelope :all :is \"from\" \"tim@example.com\" { discard; }",
	"if header :is [\"X-Caffeine\"] [\"\"] { discard; }",
	"if size :under 1M { keep; } else { discard; }",
	"if not size :over 100k { keep; }",
	"require \"fileinto\";\nif header :contains [\"From\"] [\"coyote\"] {\n   redirect \"acm@example.com\";\n} "
	"elsif header :contains \"Subject\" \"$$$\" {\n   redirect \"postmaster@example.com\";\n} else {\n"
	"   redirect \"field@example.com\";\n}\n",
	"require \"encoded-character\";\nif header :contains \"Subject\" \"$${hex:24 24}\" { discard; }\n"
	"if header :contains \"Subject\" \"${Unicode:40}\" { discard; }",
	"require [\"fileinto\", \"reject\"];\nfileinto \"INBOX\";",
	"require \"comparator-i;octet\";\nkeep;",
	/* RFC 5229 (variables) */
	"require \"variables\";\nset \"honorific\"  \"Mr\";\nset \"first_name\" \"Wile\";\nset \"last_name\"  \"Coyote\";\n"
	"set \"vacation\" text:\nDear ${HONORIFIC} ${last_name},\nI'm out, please leave a message after the meep.\n.\n;\n",
	"require [\"fileinto\", \"variables\"];\n\nif header :matches \"List-ID\" \"*<*@*\" {\n"
	"    fileinto \"INBOX.lists.${2}\"; stop;\n}\n\n# Imagine the header\n# Subject: [acme-users] [fwd] version 1.0 is out\n"
	"if header :matches \"Subject\" \"[*] *\" {\n    # ${1} will hold \"acme-users\",\n"
	"    # ${2} will hold \"[fwd] version 1.0 is out\"\n    fileinto \"INBOX.lists.${1}\"; stop;\n}\n\n"
	"# Imagine the header\n# To: coyote@ACME.Example.COM\nif address :matches [\"To\", \"Cc\"] [\"coyote@**.com\",\n"
	"        \"wile@**.com\"] {\n    # ${0} is the matching address\n    # ${1} is always the empty string\n"
	"    # ${2} is part of the domain name (\"ACME.Example\")\n    fileinto \"INBOX.business.${2}\"; stop;\n"
	"} else {\n    # Control wouldn't reach this block if any match was\n    # successful, so no match variables are set at this\n"
	"    # point.\n}\n\nif anyof (true, address :domain :matches \"To\" \"*.com\") {\n"
	"    # The second test is never evaluated, so there are\n    # still no match variables set.\n    stop;\n}\n",
	"require \"variables\";\nset \"a\" \"juMBlEd lETteRS\";\nset :length \"b\" \"${a}\";\nset :lower \"b\" \"${a}\";\n"
	"set :upperfirst \"b\" \"${a}\";\nset :upperfirst :lower \"b\" \"${a}\";\nset :quotewildcard \"b\" \"Rock*\";\n",
	"require \"variables\";\nset \"state\" \"${state} pending\";\nif string :matches \" ${state} \" \"* pending *\" {\n"
	"    # the above test always succeeds\n}\n",
	"require [\"variables\", \"fileinto\"];\nset \"company\" \"ACME\";\nset \"c_d\" \"\";\n"
	"if header :contains \"Subject\" \"${company}\" { fileinto \"${company}\"; }\n",
	/* RFC 5230 (vacation) */
	"require \"vacation\";\nif header :contains \"subject\" \"cyrus\" {\n    vacation \"I'm out -- send mail to cyrus-bugs\";\n"
	"} else {\n    vacation \"I'm out -- call me at +1 304 555 0123\";\n}\n",
	"require [\"vacation\", \"variables\"];\nif header :matches \"subject\" \"*\" {\n"
	"    vacation :subject \"Automatic response to: ${1}\"\n             \"I'm away -- send mail to foo in my absence\";\n}\n",
	"require \"vacation\";\nif header :contains \"subject\" \"lunch\" {\n"
	"    vacation :handle \"ran-away\" \"I'm out and can't meet for lunch\";\n} else {\n"
	"    vacation :handle \"ran-away\" \"I'm out\";\n}\n",
	"require \"vacation\";\nvacation :mime text:\nContent-Type: multipart/alternative; boundary=foo\n\n--foo\n\n"
	"I'm at the beach relaxing.  Mmmm, surf...\n\n--foo\nContent-Type: text/html; charset=us-ascii\n\n"
	"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.0//EN\"\n \"http://www.w3.org/TR/REC-html40/strict.dtd\">\n"
	"<HTML><HEAD><TITLE>How to relax</TITLE>\n<BASE HREF=\"http://home.example.com/pictures/\"></HEAD>\n"
	"<BODY><P>I'm at the <A HREF=\"beach.gif\">beach</A> relaxing.\nMmmm, <A HREF=\"ocean.gif\">surf</A>...\n"
	"</BODY></HTML>\n\n--foo--\n.\n;\n",
	"require \"vacation\";\nvacation :days 23 :addresses [\"tjs@example.edu\",\n"
	"                            \"ts4z@landru.example.edu\"]\n   \"I'm away until October 19.\n"
	"   If it's an emergency, call 911, I guess.\" ;\n",
	"require \"vacation\";\nif header :contains \"from\" \"boss@example.edu\" {\n    redirect \"pleeb@isp.example.org\";\n"
	"} else {\n    vacation \"Sorry, I'm away, I'll read your\nmessage when I get around to it.\";\n}\n",
	"require \"vacation\";\nif header :contains \"from\" \"boss@example.edu\" {\n    keep;\n} else {\n"
	"    vacation :from \"hemingway@example.com\" :subject \"Gone fishing\" \"Gone fishing\";\n}\n",
	/* RFC 6131 (vacation-seconds) */
	"require [\"vacation-seconds\"];\nvacation :addresses [\"tjs@example.edu\", \"ts4z@landru.example.edu\"]\n"
	"         :seconds 1800\n         \"I am in a meeting, and do not have access to email.\";\n",
	"require [\"vacation-seconds\"];\nvacation :handle \"auto-resp\" :seconds 0\n  \"I am away.\";\n",
	/* RFC 5232 (imap4flags) */
	"require [\"imap4flags\"];\nif size :over 500K {\n    setflag \"\\\\Deleted\";\n}\n",
	"require [\"fileinto\", \"imap4flags\", \"variables\"];\nif header :contains \"from\" \"boss@frobnitzm.example.edu\" {\n"
	"    setflag \"flagvar\" \"\\\\Flagged\";\n    fileinto :flags \"${flagvar}\" \"INBOX.From Boss\";\n}\n"
	"if header :contains \"Disposition-Notification-To\" \"mel@example.com\" {\n"
	"    addflag \"flagvar\" \"$MDNRequired\";\n}\nif header :contains \"from\" \"imap@cac.washington.example.edu\" {\n"
	"    removeflag \"flagvar\" \"$MDNRequired\";\n    fileinto :flags \"${flagvar}\" \"INBOX.imap-list\";\n}\n",
	"require [\"imap4flags\", \"variables\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
	"if hasflag :contains \"MyVar\" \"Junk\" { discard; }\n"
	"if hasflag :count \"ge\" :comparator \"i;ascii-numeric\" \"MyFlags\" \"2\" { keep; }\n"
	"if hasflag :is \"$MDNSent\" { keep; }\n",
	"require [\"imap4flags\", \"fileinto\"];\naddflag \"\\\\Seen \\\\Answered\";\nkeep :flags \"\\\\Flagged\";\n"
	"fileinto :flags [\"\\\\Draft\", \"$Junk\"] \"Junk\";\n",
	/* RFC 5173 (body) */
	"require \"body\";\nif body :raw :contains \"MAKE MONEY FAST\" {\n        discard;\n}\n",
	"require [\"body\", \"fileinto\"];\n# Save any message with any text MIME part that contains the\n"
	"# words \"missile\" or \"coordinates\" in the \"secrets\" folder.\n"
	"if body :content \"text\" :contains [\"missile\", \"coordinates\"] {\n        fileinto \"secrets\";\n}\n"
	"# Save any message with an audio/mp3 MIME part in\n# the \"jukebox\" folder.\n"
	"if body :content \"audio/mp3\" :contains \"\" {\n        fileinto \"jukebox\";\n}\n",
	"require \"body\";\n# Remove any message that contains the words \"project schedule\"\n"
	"if body :text :contains \"project schedule\" {\n        discard;\n}\n",
	/* RFC 3894 (copy) */
	"require [\"copy\", \"fileinto\"];\nfileinto :copy \"incoming\";\n",
	"require [\"copy\"];\nif header :contains \"subject\" \"urgent\" {\n    redirect :copy \"alice@example.net\";\n}\n",
	/* RFC 5231 (relational) */
	"require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
	"if header :value \"lt\" :comparator \"i;ascii-numeric\" [\"x-priority\"] [\"3\"] { keep; }\n"
	"if address :count \"gt\" :comparator \"i;ascii-numeric\" [\"to\",\"cc\"] [\"3\"] { discard; }\n"
	"if header :count \"ge\" :comparator \"i;ascii-numeric\" [\"received\"] [\"3\"] { discard; }\n"
	"if address :value \"gt\" :all :comparator \"i;ascii-casemap\" [\"from\"] [\"M\"] { keep; }\n"
	"if anyof ( address :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] [\"2\"],\n"
	"           header :value \"ne\" [\"Subject\"] [\"x\"] ) { keep; }\n",
	/* RFC 5233 (subaddress) */
	"require [\"envelope\", \"subaddress\", \"fileinto\"];\n\n"
	"# In this example the same user account receives mail for both\n"
	"# \"ken@example.com\" and \"postmaster@example.com\"\n\n"
	"# File all messages to the postmaster into a single mailbox,\n# ignoring the :detail part.\n"
	"if envelope :user \"to\" \"postmaster\" {\n    fileinto \"inbox.postmaster\";\n    stop;\n}\n\n"
	"# File mailing list messages (subscribed as \"ken+mta-filters\").\n"
	"if envelope :detail \"to\" \"mta-filters\" {\n    fileinto \"inbox.ietf-mta-filters\";\n}\n\n"
	"# Redirect all mail sent to \"ken+foo\".\nif envelope :detail \"to\" \"foo\" {\n    redirect \"ken@example.net\";\n}\n",
	/* RFC 5260 (date, index) */
	"require [\"date\", \"relational\", \"fileinto\"];\nif allof(header :is \"from\" \"boss@example.com\",\n"
	"         date :value \"ge\" :originalzone \"date\" \"hour\" \"09\",\n"
	"         date :value \"lt\" :originalzone \"date\" \"hour\" \"17\")\n{ fileinto \"urgent\"; }\n",
	"require [\"date\", \"relational\", \"fileinto\"];\nif anyof(date :is \"received\" \"weekday\" \"0\",\n"
	"         date :is \"received\" \"weekday\" \"6\")\n{ fileinto \"weekend\"; }\n",
	"require [\"date\", \"variables\", \"fileinto\"];\nif currentdate :matches \"month\" \"*\" { set \"month\" \"${1}\"; }\n"
	"if currentdate :matches \"year\"  \"*\" { set \"year\"  \"${1}\"; }\nfileinto \"${month}-${year}\";\n",
	"require [\"variables\", \"date\", \"editheader\"];\nif currentdate :matches \"std11\" \"*\"\n"
	"  {addheader \"Processing-date\" \"${0}\";}\n",
	"require [\"date\", \"relational\", \"vacation\"];\nif allof(currentdate :value \"ge\" \"date\" \"2007-06-30\",\n"
	"         currentdate :value \"le\" \"date\" \"2007-07-07\")\n"
	"{ vacation :days 7  \"I'm away during the first week in July.\"; }\n",
	"require [\"date\", \"relational\", \"index\"];\nif date :value \"gt\" :index 2 :zone \"-0500\" \"received\"\n"
	"           \"iso8601\" \"2007-02-26T09:00:00-05:00\"\n{ redirect \"aftercutoff@example.org\"; }\n",
	"require [\"index\"];\nif header :index 1 :last :is \"received\" \"x\" { discard; }\n"
	"if address :index 2 :domain \"to\" \"example.com\" { keep; }\n",
	/* RFC 5490 (mailbox, mboxmetadata, servermetadata) */
	"require [\"fileinto\", \"mailbox\"];\nif mailboxexists \"Fee\" { fileinto \"Fee\"; }\n"
	"fileinto :create \"INBOX.foo\";\n",
	"require [\"mboxmetadata\", \"vacation\"];\n"
	"if metadata :is \"INBOX\"\n    \"/private/vendor/vendor.isode/auto-replies\" \"on\" {\n\n"
	"    vacation text:\nI'm away on holidays till March 2009.\nExpect a delay.\n.\n;\n}\n",
	"require [\"mboxmetadata\"];\nif metadataexists \"INBOX\" \"/private/comment\" { keep; }\n",
	"require [\"servermetadata\", \"variables\"];\n"
	"if servermetadata :matches\n    \"/private/vendor/vendor.isode/notification-uri\" \"*\" {\n"
	"    set \"notif_uri\" \"${0}\";\n}\nif servermetadataexists \"/shared/admin\" { keep; }\n",
	/* RFC 6609 (include) */
	"require [\"include\"];\n\ninclude :personal \"always_allow\";\ninclude :global \"spam_tests\";\n"
	"include :personal \"spam_tests\";\ninclude :personal \"mailing_lists\";\n",
	"require [\"variables\", \"include\", \"relational\", \"fileinto\"];\nglobal \"test\";\nglobal \"test_mailbox\";\n\n"
	"set \"test\" \"$$\";\ninclude \"subject_tests\";\n\nset \"test\" \"Make money\";\ninclude \"subject_tests\";\n\n"
	"if string :count \"eq\" \"${test_mailbox}\" \"1\"\n{\n    fileinto \"${test_mailbox}\";\n    stop;\n}\n",
	"require [\"variables\", \"include\"];\nglobal [\"test\", \"test_mailbox\"];\n\n"
	"if header :contains \"Subject\" \"${test}\"\n{\n    set \"test_mailbox\" \"spam-${test}\";\n}\n",
	"require [\"variables\", \"include\", \"vacation\"];\nglobal \"i_am_on_vacation\";\n\n"
	"set \"global.i_am_on_vacation\" \"1\";\n\nif string :is \"${global.i_am_on_vacation}\" \"1\"\n{\n"
	"    vacation \"It's true, I am on vacation.\";\n}\n",
	"require [\"include\"];\ninclude :once :optional \"spam_filter_script\";\nreturn;\n",
	/* RFC 7352 (duplicate) */
	"require [\"duplicate\", \"fileinto\", \"mailbox\"];\n\nif duplicate {\n  fileinto :create \"Trash/Duplicate\";\n}\n",
	"require [\"duplicate\", \"variables\", \"imap4flags\",\n  \"fileinto\"];\n\n"
	"if header :matches \"subject\" \"ALERT: *\" {\n  if duplicate :seconds 60 :uniqueid \"${1}\" {\n"
	"    setflag \"\\\\seen\";\n  }\n  fileinto \"Alerts\";\n}\n",
	"require [\"duplicate\", \"fileinto\", \"mailbox\"];\n\n"
	"if duplicate :header \"X-Event-ID\" :handle \"notifier\" {\n  discard;\n}\n"
	"if allof (duplicate :header \"X-Ticket-ID\" :handle \"support\",\n"
	"  address :domain \"to\" \"support.example.com\",\n  header :contains \"subject\" \"fileserver\")\n{\n"
	"  fileinto :create \"Support/Fileserver\";\n}\n",
	"require \"duplicate\";\nif duplicate :last :seconds 3600 { discard; }\n",
	/* RFC 5293 (editheader) */
	"require [\"editheader\"];\n/* Don't redirect if we already have */\n"
	"if not header :contains \"X-Sieve-Filtered\"\n        [\"<kim@job.example.com>\", \"<kim@home.example.com>\"]\n{\n"
	"        addheader \"X-Sieve-Filtered\" \"<kim@job.example.com>\";\n"
	"        redirect \"kim@home.example.com\";\n}\n",
	"require [\"editheader\", \"variables\"];\nif header :matches \"Subject\" \"*\" {\n"
	"    deleteheader \"Subject\";\n    addheader :last \"Subject\" \"[sieve] ${1}\";\n}\n"
	"deleteheader :index 1 :last \"X-Spam-Score\";\ndeleteheader :matches \"X-Spam-Level\" \"***\";\n"
	"deleteheader :contains \"X-Header\" [\"a\", \"b\"];\n",
	/* RFC 5235 (spamtest, spamtestplus, virustest) */
	"require [\"spamtest\", \"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
	"if spamtest :value \"eq\" :comparator \"i;ascii-numeric\" \"0\"\n{\n    fileinto \"INBOX.unclassified\";\n}\n"
	"elsif spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"3\"\n{\n    fileinto \"INBOX.spam-trap\";\n}\n",
	"require [\"spamtestplus\", \"fileinto\", \"relational\",\n         \"comparator-i;ascii-numeric\"];\n"
	"if spamtest :percent :value \"eq\" :comparator \"i;ascii-numeric\" \"0\"\n{\n"
	"    fileinto \"INBOX.unclassified\";\n}\n"
	"elsif spamtest :percent :value \"ge\" :comparator \"i;ascii-numeric\" \"20\"\n{\n"
	"    fileinto \"INBOX.spam-trap\";\n}\n",
	"require [\"spamtestplus\", \"fileinto\", \"relational\",\n         \"comparator-i;ascii-numeric\"];\n"
	"if spamtest :percent :count \"eq\" :comparator \"i;ascii-numeric\" \"0\" { fileinto \"INBOX.unclassified\"; }\n",
	"require [\"virustest\", \"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
	"if virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"0\"\n{\n    fileinto \"INBOX.unclassified\";\n}\n"
	"if virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"4\"\n{\n    fileinto \"INBOX.quarantine\";\n}\n"
	"elsif virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"5\"\n{\n    discard;\n}\n",
	/* RFC 5183 (environment) */
	"require \"environment\";\nif environment :matches \"remote-host\" \"*.example.com\" { discard; }\n"
	"if environment :is \"location\" \"MDA\" { keep; }\nif environment :contains \"version\" \"1\" { keep; }\n",
	/* RFC 5429 (reject, ereject) */
	"require [\"ereject\"];\n\nif address \"from\" \"someone.i.hate@example.com\"\n{\n"
	"    ereject \"I no longer accept mail from this address\";\n}\n",
	"require [\"reject\"];\n\nif size :over 100K {\n    reject text:\n"
	"Your message is too big.  If you want to send me a big attachment,\n"
	"put it on a public web site and send me a URL.\n.\n;\n}\n",
	"require [\"reject\"];\nif header :contains \"from\" \"coyote@desert.example.org\" {\n"
	"    reject text:\nI am not taking mail from you, and I don't\nwant your birdseed, either!\n.\n;\n}\n",
	/* RFC 8580 (fcc) */
	"require [\"vacation\", \"fcc\"];\nvacation :days 7 :from \"hemingway@example.com\" :fcc \"INBOX.Sent\"\n"
	"         \"Gone fishing\";\n",
	"require [\"vacation\", \"fcc\", \"mailbox\", \"imap4flags\"];\nvacation :fcc \"Sent\" :create :flags \"\\\\Seen\" \"away\";\n",
	/* RFC 8579 (special-use) */
	"require [\"fileinto\", \"special-use\"];\nfileinto :specialuse \"\\\\Junk\" \"Spam\";\n"
	"if specialuse_exists \"\\\\Junk\" { keep; }\nif specialuse_exists \"Spam\" [\"\\\\Junk\"] { keep; }\n",
	/* draft-ietf-sieve-regex */
	"require \"regex\";\nif address :regex [\"from\", \"reply-to\"] \"^teamsbooking@.*\\\\.com$\" { discard; }\n",
	"require [\"regex\", \"variables\", \"fileinto\"];\nif header :regex \"List-ID\" \"<(.*)@\" {\n"
	"    fileinto \"lists.${1}\"; stop;\n}\nset :quoteregex \"q\" \"a.b\";\n",
};

static void test_rfc_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rfc_examples); i++) {
		struct sieve_script *s = compile_ok(rfc_examples[i]);
		sieve_script_unref(&s);
	}
}

static void test_errors_line_column(void **state)
{
	(void)state;
	expect_err("keep", "line 1 column 5: expected ';' after 'keep' (end of script)");
	expect_err("keep;\n  frobnicate;", "line 2 column 3: unknown command 'frobnicate'");
	expect_err("if header :is \"a\" \"b\" {\n keep;\n", "line 3 column 1: expected '}'");
	expect_err("fileinto \"x\";", "line 1 column 1: fileinto requires the extension \"fileinto\"");
	expect_err("require \"nosuch\";", "line 1 column 9: unsupported extension \"nosuch\"");
	expect_err("keep;\nrequire \"fileinto\";", "line 2 column 1: require must come before any other command");
	expect_err("if true { require \"fileinto\"; }", "line 1 column 11: require must come before");
	expect_err("/* open", "line 1 column 1: unterminated comment");
	expect_err("redirect \"abc", "line 1 column 10: unterminated string");
	expect_err("reject text:\nno end\n", "unterminated multi-line string");
	expect_err("if size :over 10X { }", "line 1 column 15: invalid character 'X' in a number");
	expect_err("if size :over 99999999999999999999 { }", "number too large");
	expect_err("if size 10 { keep; }", "size needs :over or :under");
	expect_err("if header :is :contains \"a\" \"b\" { }", "line 1 column 15: the tag ':contains' conflicts");
	expect_err("if header :frob \"a\" \"b\" { }", "line 1 column 11: 'header' does not accept the tag ':frob'");
	expect_err("if header \"a\" :is \"b\" { }", "tags come first");
	expect_err("if header :comparator \"i;nope\" \"a\" \"b\" { }", "unknown comparator \"i;nope\"");
	expect_err("if header :comparator \"i;ascii-numeric\" \"a\" \"1\" { }",
		   "requires require \"comparator-i;ascii-numeric\"");
	expect_err("require \"comparator-i;ascii-numeric\";\n"
		   "if header :contains :comparator \"i;ascii-numeric\" \"a\" \"1\" { }",
		   "line 2 column 11: the comparator \"i;ascii-numeric\" does not support substring");
	expect_err("require \"relational\";\nif header :value \"xx\" \"a\" \"1\" { }", "invalid relational operator \"xx\"");
	expect_err("if header :value \"gt\" \"a\" \"1\" { }", ":value requires the extension \"relational\"");
	expect_err("elsif true { }", "line 1 column 1: 'elsif' without a preceding 'if'");
	expect_err("if true { } keep; else { }", "line 1 column 19: 'else' without a preceding 'if'");
	expect_err("if true keep;", "line 1 column 1: 'if' needs a block");
	expect_err("if keep { }", "'keep' is a command, not a test");
	expect_err("true;", "'true' is a test, not a command");
	expect_err("if allof true { }", "'allof' needs a test list");
	expect_err("if not (true, false) { }", "'not' needs exactly one test");
	expect_err("keep { }", "'keep' does not take a block");
	expect_err("if true;", "'if' needs a block");
	expect_err("redirect [\"a@b.c\", \"d@e.f\"];", "expects a single string here, not a list");
	expect_err("redirect \"not an address\";", "redirect: invalid address \"not an address\"");
	expect_err("redirect \"\";", "redirect: invalid address");
	expect_err("require \"variables\";\nset \"1abc\" \"x\";", "line 2 column 1: set: invalid variable name \"1abc\"");
	expect_err("require \"variables\";\nset \"a.b\" \"x\";", "line 2 column 1: unknown variable namespace in \"a.b\"");
	expect_err("require [\"variables\", \"fileinto\"];\nfileinto \"${a.b}\";", "line 2 column 10: unknown variable namespace");
	expect_err("require \"variables\";\nset \"global.x\" \"1\";", "the variable namespace \"global\" requires \"include\"");
	expect_err("require \"variables\";\nset :lower :upper \"a\" \"x\";", "same precedence");
	expect_err("require \"vacation\";\nvacation :from \"not an address\" \"x\";", "invalid :from address");
	expect_err("require \"vacation\";\nvacation :days 3 :seconds 5 \"x\";", "conflicts");
	expect_err("require \"vacation\";\nvacation :seconds 5 \"x\";", ":seconds requires the extension \"vacation-seconds\"");
	expect_err("require \"date\";\nif date \"date\" \"century\" \"x\" { }", "unknown date part \"century\"");
	expect_err("require \"date\";\nif date :zone \"CET\" \"date\" \"year\" \"x\" { }", "invalid time zone \"CET\"");
	expect_err("require \"index\";\nif header :last \"a\" \"b\" { }", ":last needs :index");
	expect_err("if header :index 1 \"a\" \"b\" { }", ":index requires the extension \"index\"");
	expect_err("require \"editheader\";\naddheader \"Bad Name\" \"x\";", "invalid header field name \"Bad Name\"");
	expect_err("if address :is \"x-foo\" \"a@b.c\" { }", "line 1 column 4: address: the header \"x-foo\" holds no addresses");
	expect_err("require \"include\";\ninclude \"../etc/passwd\";", "include: invalid script name");
	expect_err("require \"include\";\nglobal \"x\";", "global requires \"variables\"");
	expect_err("require \"envelope\";\nif envelope \"sender\" \"x\" { }", "unknown envelope part \"sender\"");
	expect_err("require \"vacation\";\nvacation :flags \"\\\\Seen\" \"x\";", ":flags requires the extension \"fcc\"");
	expect_err("require [\"body\"];\nif body :content \"text/plain; charset=x\" :contains \"\" { }",
		   "a type may not have parameters");
	{
		struct sieve_script *s;
		char *e;
		assert_int_equal(sieve_compile("keep;\0", 6, NULL, &s, &e), -1);
		assert_non_null(strstr(e, "NUL byte"));
		free(e);
	}
	expect_err("if header :is \"a\" [\"b\", ] { }", "expected a string in the string list");
	expect_err("@", "line 1 column 1: unexpected character '@'");
	/* several errors are all reported, one per line */
	char *err = compile_err("require \"fileinto\";\nfrob;\nif size 3 { keep; }\n");
	assert_non_null(strstr(err, "line 2 column 1: unknown command 'frob'\nline 3 column 4: size needs"));
	free(err);
}

static void test_limits(void **state)
{
	(void)state;
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	assert_int_equal(lim.max_redirects, 4);
	assert_int_equal(lim.max_nesting, 32);
	/* nesting */
	char deep[2000] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "if true {");
	for (int i = 0; i < 40; i++)
		strcat(deep, "}");
	expect_err(deep, "nested too deeply (limit 32)");
	char deept[2000] = "if ";
	for (int i = 0; i < 40; i++)
		strcat(deept, "not ");
	strcat(deept, "true { }");
	expect_err(deept, "tests nested too deeply (limit 32)");
	/* script size */
	lim.max_script_size = 10;
	struct sieve_compile_params p = { .limits = &lim };
	struct sieve_script *s;
	char *err;
	assert_int_equal(sieve_compile("keep; keep; keep;", 17, &p, &s, &err), -1);
	assert_string_equal(err, "line 1 column 1: script too large (17 bytes, limit 10)");
	free(err);
	/* string size */
	sieve_limits_default(&lim);
	lim.max_string = 8;
	assert_int_equal(sieve_compile("redirect \"abcdefghijk@x.y\";", 27, &p, &s, &err), -1);
	assert_non_null(strstr(err, "line 1 column 10: string longer than 8 bytes"));
	free(err);
	/* commands */
	sieve_limits_default(&lim);
	lim.max_commands = 3;
	assert_int_equal(sieve_compile("keep; keep; keep; keep;", 23, &p, &s, &err), -1);
	assert_non_null(strstr(err, "line 1 column 19: too many commands"));
	free(err);
}

static void test_lexer_values(void **state)
{
	(void)state;
	struct sieve_script *s = compile_ok("require [\"reject\"];\nreject text:\r\nline\r\n..dot\r\n.\r\n;");
	assert_int_equal(s->ncmds, 1);
	assert_string_equal(s->cmds[0]->args[0].v[0].s, "line\r\n.dot\r\n");
	sieve_script_unref(&s);
	s = compile_ok("require \"reject\"; reject \"a\\\"b\\\\c\\d\";");
	assert_string_equal(s->cmds[0]->args[0].v[0].s, "a\"b\\cd");
	sieve_script_unref(&s);
	s = compile_ok("if size :over 2K { keep; } if size :under 3m { keep; } if size :over 1G { keep; }");
	assert_int_equal(s->cmds[0]->tests[0]->num, 2048);
	assert_int_equal(s->cmds[1]->tests[0]->num, 3 * 1024 * 1024);
	assert_int_equal(s->cmds[2]->tests[0]->num, 1024ULL * 1024 * 1024);
	sieve_script_unref(&s);
	/* encoded-character (RFC 5228 2.4.2.4) only when required */
	s = compile_ok("require \"encoded-character\";\n"
		       "if header :is \"x\" [\"$${hex:24 24}\", \"${hex: 40}\", \"${unicode:48 65 6c 6C 6f}\", "
		       "\"${hex:xx}\", \"${unicode:1F600}\"] { keep; }");
	const struct sieve_list *k = &s->cmds[0]->tests[0]->args[1];
	assert_string_equal(k->v[0].s, "$$$");
	assert_string_equal(k->v[1].s, "@");
	assert_string_equal(k->v[2].s, "Hello");
	assert_string_equal(k->v[3].s, "${hex:xx}");
	assert_string_equal(k->v[4].s, "\xf0\x9f\x98\x80");
	sieve_script_unref(&s);
	s = compile_ok("if header :is \"x\" \"${hex:40}\" { keep; }");
	assert_string_equal(s->cmds[0]->tests[0]->args[1].v[0].s, "${hex:40}");
	sieve_script_unref(&s);
	expect_err("require \"encoded-character\";\nkeep :flags \"${unicode:D800}\";", "invalid Unicode");
	/* variables are marked for run-time expansion only with "variables" */
	s = compile_ok("require [\"variables\", \"fileinto\"];\nfileinto \"${a}\";\nfileinto \"$x{\";");
	assert_true(s->cmds[0]->args[0].v[0].var);
	assert_false(s->cmds[1]->args[0].v[0].var);
	sieve_script_unref(&s);
	s = compile_ok("require \"fileinto\";\nfileinto \"${a}\";");
	assert_false(s->cmds[0]->args[0].v[0].var);
	assert_true(sieve_script_requires(s, "fileinto"));
	assert_false(sieve_script_requires(s, "vacation"));
	sieve_script_unref(&s);
}

static void test_extensions_list(void **state)
{
	(void)state;
	const char *e = sieve_extensions();
	static const char *const want[] = { "fileinto", "reject", "ereject", "envelope", "encoded-character",
		"imap4flags", "body", "variables", "vacation", "vacation-seconds", "copy", "relational",
		"subaddress", "date", "index", "mailbox", "mboxmetadata", "servermetadata", "include",
		"duplicate", "editheader", "spamtest", "spamtestplus", "virustest", "environment", "regex",
		"fcc", "special-use", "comparator-i;ascii-numeric" };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_non_null(strstr(e, want[i]));
		assert_true(sieve_extension_supported(want[i]));
		/* every advertised extension can be required */
		char src[128];
		snprintf(src, sizeof(src), "require \"%s\";", want[i]);
		struct sieve_script *s = compile_ok(src);
		sieve_script_unref(&s);
	}
	assert_false(sieve_extension_supported("enotify"));
	/* disabled extensions are refused */
	const char *const off[] = { "vacation", NULL };
	struct sieve_compile_params p = { .disabled_extensions = off };
	char *err;
	assert_int_equal(sieve_check("require \"vacation\";", 19, &p, &err), -1);
	assert_non_null(strstr(err, "unsupported extension \"vacation\""));
	free(err);
}

static int inc_resolver(void *ctx, enum sieve_include_location loc, const char *name,
			char **source_r, size_t *len_r, const char **error_r)
{
	(void)error_r;
	if (ctx)
		(*(int *)ctx)++;
	const char *src = NULL;
	if (!strncmp(name, "dia", 3) && name[3] >= '0' && name[3] < '9') {
		/* diaN includes dia(N+1) twice, with and without :once */
		static char buf[128];
		snprintf(buf, sizeof(buf), "require \"include\"; include \"dia%c\"; include \"dia%c\";",
			 name[3] + 1, name[3] + 1);
		src = buf;
	} else if (!strcmp(name, "dia9"))
		src = "keep;";
	if (loc == SIEVE_INCLUDE_PERSONAL && !strcmp(name, "a"))
		src = "require \"include\"; include \"b\";";
	else if (loc == SIEVE_INCLUDE_PERSONAL && !strcmp(name, "b"))
		src = "require \"include\"; include \"a\";";
	else if (loc == SIEVE_INCLUDE_GLOBAL && !strcmp(name, "ok"))
		src = "keep;";
	else if (loc == SIEVE_INCLUDE_GLOBAL && !strcmp(name, "broken"))
		src = "keep";
	if (!src)
		return 1;
	*source_r = strdup(src);
	*len_r = strlen(src);
	return 0;
}

static void test_include_check(void **state)
{
	(void)state;
	struct sieve_compile_params p = { .include = inc_resolver, .name = "main" };
	char *err;
	const char *ok = "require \"include\"; include :global \"ok\"; include :optional \"none\";";
	assert_int_equal(sieve_check(ok, strlen(ok), &p, &err), 0);
	const char *loop = "require \"include\"; include \"a\";";
	assert_int_equal(sieve_check(loop, strlen(loop), &p, &err), -1);
	assert_non_null(strstr(err, "loop"));
	free(err);
	const char *missing = "require \"include\";\ninclude \"none\";";
	assert_int_equal(sieve_check(missing, strlen(missing), &p, &err), -1);
	assert_non_null(strstr(err, "line 2 column 1: include: script \"none\" not found"));
	free(err);
	/* a diamond of includes is checked once per script, not 2^depth times */
	int calls = 0;
	struct sieve_compile_params pd = { .include = inc_resolver, .include_ctx = &calls };
	const char *dia = "require \"include\"; include \"dia0\";";
	assert_int_equal(sieve_check(dia, strlen(dia), &pd, &err), 0);	/* depth 10: at the limit */
	assert_int_equal(calls, 10);
	calls = 0;
	const char *dia5 = "require \"include\"; include \"dia5\";";
	assert_int_equal(sieve_check(dia5, strlen(dia5), &pd, &err), 0);
	assert_int_equal(calls, 5);
	const char *broken = "require \"include\";\ninclude :global \"broken\";";
	assert_int_equal(sieve_check(broken, strlen(broken), &p, &err), -1);
	assert_non_null(strstr(err, "include \"broken\": line 1 column 5"));
	free(err);
	/* the script being checked is the root of the loop check, even when
	 * the resolver does not know it (an upload replacing it) */
	struct sieve_compile_params ps = { .include = inc_resolver, .name = "self" };
	const char *self = "require \"include\";\ninclude \"self\";";
	assert_int_equal(sieve_check(self, strlen(self), &ps, &err), -1);
	assert_non_null(strstr(err, "line 2 column 1: include: loop"));
	free(err);
	/* upload: a missing :personal script is a warning (RFC 6609 3.2); a
	 * missing :global one stays an error */
	struct sieve_compile_params pu = { .include = inc_resolver, .name = "main",
					   .include_missing_personal_ok = true };
	struct sieve_script *script = NULL;
	assert_int_equal(sieve_compile(missing, strlen(missing), &pu, &script, &err), 0);
	assert_non_null(strstr(sieve_script_warnings(script),
			       "line 2 column 1: include: script \"none\" not found"));
	sieve_script_unref(&script);
	const char *gmissing = "require \"include\";\ninclude :global \"none\";";
	assert_int_equal(sieve_check(gmissing, strlen(gmissing), &pu, &err), -1);
	assert_non_null(strstr(err, "not found"));
	free(err);
}

static void test_address_parsing(void **state)
{
	(void)state;
	struct sieve_address *a;
	size_t n = sieve_parse_addresses("\"Doe, J.\" <j.doe@Example.COM> (comment), x@y.z, grp: a@b.c, <d@e.f>;, bad",
					 73, &a);
	assert_int_equal(n, 5);
	assert_string_equal(a[0].local, "j.doe");
	assert_string_equal(a[0].domain, "Example.COM");
	assert_string_equal(a[1].all, "x@y.z");
	assert_string_equal(a[2].all, "a@b.c");
	assert_string_equal(a[3].all, "d@e.f");
	assert_null(a[4].local);
	assert_string_equal(a[4].all, "bad");
	sieve_addresses_free(a, n);
	n = sieve_parse_addresses("\"quoted local\"@example.com", 26, &a);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].local, "quoted local");
	sieve_addresses_free(a, n);
	assert_true(sieve_valid_address("a.b+c@example.com", 17));
	assert_false(sieve_valid_address("a@", 2));
	assert_false(sieve_valid_address("a b@c", 5));
	char *p = sieve_address_part("ken+foo@example.com", "detail", NULL);
	assert_string_equal(p, "foo");
	free(p);
	p = sieve_address_part("ken@example.com", "detail", "+");
	assert_null(p);
	p = sieve_address_part("ken+foo@example.com", "user", "+");
	assert_string_equal(p, "ken");
	free(p);
}

static void test_match(void **state)
{
	(void)state;
	uint64_t steps = 0;
	struct sieve_captures caps = { .max = 10 };
	assert_true(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, "coyote@ACME.Example.COM", 23,
				"coyote@**.com", 13, &caps, &steps, 100000));
	assert_int_equal(caps.n, 3);
	assert_string_equal(caps.v[1].data ? caps.v[1].data : "", "");
	assert_string_equal(caps.v[2].data, "ACME.Example");
	assert_true(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, "[acme-users] [fwd] version 1.0 is out", 37,
				"[*] *", 5, &caps, &steps, 100000));
	assert_string_equal(caps.v[1].data, "acme-users");
	assert_string_equal(caps.v[2].data, "[fwd] version 1.0 is out");
	/* ? matches one UTF-8 character with casemap, one octet with i;octet */
	assert_true(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, "\xc3\xa9t\xc3\xa9", 5, "?t?", 3, NULL, &steps, 100000));
	assert_false(sieve_match(SCMP_OCTET, SMT_MATCHES, SREL_NONE, "\xc3\xa9t\xc3\xa9", 5, "?t?", 3, NULL, &steps, 100000));
	assert_false(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, "abc", 3, "a\\*c", 4, NULL, &steps, 100000));
	assert_true(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, "a*c", 3, "a\\*c", 4, NULL, &steps, 100000));
	/* i;ascii-numeric */
	assert_true(sieve_match(SCMP_NUMERIC, SMT_IS, SREL_NONE, "007", 3, "7", 1, NULL, &steps, 100000));
	assert_true(sieve_match(SCMP_NUMERIC, SMT_IS, SREL_NONE, "abc", 3, "", 0, NULL, &steps, 100000));
	assert_true(sieve_relational(SCMP_NUMERIC, SREL_GT, "x", 1, "99999999999999999999999", 23));
	assert_true(sieve_relational(SCMP_NUMERIC, SREL_LT, "12345678901234567890", 20, "12345678901234567891", 20));
	assert_true(sieve_relational(SCMP_CASEMAP, SREL_EQ, "ABC", 3, "abc", 3));
	assert_false(sieve_relational(SCMP_OCTET, SREL_EQ, "ABC", 3, "abc", 3));
	/* a pathological pattern is cut by the step budget */
	char v[4001];
	memset(v, 'a', 4000);
	v[4000] = '\0';
	steps = 0;
	assert_false(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, v, 4000, "*a*a*a*a*a*a*b", 14, NULL, &steps, 1000000));
	assert_true(steps < 100000);	/* no exponential backtracking */
	steps = 0;
	assert_false(sieve_match(SCMP_CASEMAP, SMT_MATCHES, SREL_NONE, v, 4000, "*a*a*a*a*a*a*", 13, NULL, &steps, 10));
	assert_int_equal(steps, 12);	/* cut by the budget (one step per 64 octets), even though it would match */
	/* :contains of a near-miss key on a long value is bounded too */
	char key[1001];
	memset(key, 'a', 1000);
	key[999] = 'b';
	key[1000] = '\0';
	steps = 0;
	assert_false(sieve_match(SCMP_OCTET, SMT_CONTAINS, SREL_NONE, v, 4000, key, 1000, NULL, &steps, 1000));
	assert_true(steps >= 1000 && steps < 1100);
	sieve_captures_free(&caps);
	/* dates */
	int64_t t;
	int z;
	assert_int_equal(sieve_parse_date("Tue, 14 Nov 2023 23:05:10 +0100", 31, &t, &z), 0);
	assert_int_equal(t, 1699999510);	/* 22:05:10 UTC */
	assert_int_equal(z, 60);
	assert_int_equal(sieve_parse_date("14 Nov 23 23:05 EST", 19, &t, &z), 0);
	assert_int_equal(z, -300);
	assert_int_equal(sieve_parse_date("yesterday", 9, &t, &z), -1);
}

/* Every script fed one byte at a time through the compiler's errors stays
 * sane: each prefix of a valid script either compiles or fails cleanly. */
static void test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rfc_examples); i += 5) {
		const char *src = rfc_examples[i];
		size_t n = strlen(src);
		for (size_t l = 0; l <= n; l += 3) {
			struct sieve_script *s = NULL;
			char *err = NULL;
			if (sieve_compile(src, l, NULL, &s, &err) == 0)
				sieve_script_unref(&s);
			else {
				assert_non_null(strstr(err, "line "));
				free(err);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_errors_line_column),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_lexer_values),
		cmocka_unit_test(test_extensions_list),
		cmocka_unit_test(test_include_check),
		cmocka_unit_test(test_address_parsing),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
