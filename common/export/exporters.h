#pragma once

// One include for File > Export: every writer and its reader.

#include "export/cocoexport.h"
#include "export/exportitem.h"
#include "export/motexport.h"
#include "export/vocexport.h"
#include "export/yoloexport.h"
