#include "framesource.h"

namespace edgelens {

FrameSource::~FrameSource() = default;

bool FrameSource::retrieve(SourceFrame *frame, QString *error)
{
    if (frame->image.empty() && error)
        *error = QStringLiteral("%1: frame %2 has no pixels").arg(name()).arg(frame->index);
    return !frame->image.empty();
}

} // namespace edgelens
