#pragma once

#include "inputs/samplingrule.h"

#include <QList>
#include <QString>

namespace edgelens {

// A video whose sampling has not finished: what a restart needs to continue it. The queue
// lists the ones it runs, the session keeps them, and a restored session starts them again
// after the last frame that reached the gallery (so no frame is extracted or sent twice).
struct VideoSampling
{
    QString path; // canonical
    SamplingRule rule;
    qint64 resumeAfterIndex = -1; // the last frame index the gallery got; -1: none yet
    // The file as it was sampled: a video replaced under the same name is not continued
    // (its frame numbers would mean other pictures).
    qint64 bytes = -1;
    qint64 modifiedMs = -1;
};

using VideoSamplings = QList<VideoSampling>;

} // namespace edgelens
