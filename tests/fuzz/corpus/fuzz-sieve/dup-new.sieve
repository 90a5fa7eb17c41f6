require ["duplicate", "fileinto"];
if duplicate { fileinto "dups"; }
if duplicate :header "subject" :seconds 3600 :handle "subj" { fileinto "dups"; }
