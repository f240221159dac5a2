#include "softassert.h"

Q_LOGGING_CATEGORY(lcSoftAssert, "edgelens.assert")
