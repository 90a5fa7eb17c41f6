require "fileinto";
if true {
  if header :contains "subject" "project" {
    fileinto "nested";
    stop;
  }
  fileinto "not-here";
}
fileinto "not-here-either";
