#ifndef CYAML_SHIM_H
#define CYAML_SHIM_H
// libyaml (Debian's libyaml-dev, pkg-config yaml-0.1): the web configuration file's parser.
#include <yaml.h>
#endif
