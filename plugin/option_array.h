// The snapshot functions' options argument: a text[] of alternating option names and
// values, turned into the DefElems the plugin's option parser takes.
#pragma once

#include "pg.h"

List *walcast_options_from_array(ArrayType *array);  // snapshot_rows.cpp
