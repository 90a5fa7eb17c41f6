require ["fileinto", "variables"];
if address :matches ["To", "Cc"] ["coyote@**.com", "wile@**.com"] {
    fileinto "INBOX.business.${2}-[${1}]-${0}"; stop;
}
