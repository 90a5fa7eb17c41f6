require "fileinto";
if allof (address :domain "from" "example.org", anyof (false, header :matches "subject" "Project*")) {
  fileinto "both";
}
