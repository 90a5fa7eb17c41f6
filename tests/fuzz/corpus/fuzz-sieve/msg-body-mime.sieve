require ["body", "fileinto"];
if body :text :contains "zürich" { fileinto "qp-decoded"; }
if body :text :contains "secret plan" { fileinto "html-text"; }
if body :content "application/pdf" :contains "%PDF" { fileinto "pdf"; }
if body :raw :contains "PGh0bWw+" { fileinto "raw-base64"; }
if body :content "text/html" :contains "<b>" { fileinto "html-content"; }
if body :content "text" :contains "visible" { fileinto "text-type"; }

#MSG
From: a@example.org
To: ann@example.com
Subject: mime
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

prologue
--b1
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Meeting in Z=C3=BCrich, visible text
--b2
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGh0bWw+PGI+c2VjcmV0PC9iPiBwbGFuPC9odG1sPg==
--b2--
--b1
Content-Type: application/pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1--
epilogue
