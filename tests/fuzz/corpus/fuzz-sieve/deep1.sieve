require "include";
include "deep2";
