#pragma once

// Which frames of a video are kept: every N frames, one every T seconds, or scene changes
// only, optionally within a time range. Chosen per video before it runs; plain data that the
// CLI builds from its options, the app from its dialog, and that every sidecar records in
// words (describe()).

#include "inputs/framesource.h"

#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace edgelens {

struct SamplingRule
{
    enum class Mode {
        EveryNFrames,  // frames 0, N, 2N, ... (shown order, ffprobe's numbering)
        EverySeconds,  // the first frame at or after start, start + T, start + 2T, ... (decoder time)
        SceneChanges,  // the first frame and every frame that differs from the one before by more than the threshold
    };

    Mode mode = Mode::EverySeconds; // one frame a second suits a labeller: enough variety, few near-duplicates
    int everyFrames = 30;
    double everySeconds = 1.0;
    // Scene measure: the mean absolute difference of two consecutive frames reduced to 64 x 36
    // grey pixels, in grey levels (0-255). Cheap (a resize of an already decoded frame) and
    // blind to noise and compression; a hard cut between two shots changes it by 30 or more,
    // motion inside one shot rarely by more than 10.
    double sceneThreshold = 20.0;
    double startMs = 0;   // frames before are not kept (still decoded: no seeking)
    double endMs = -1;    // < 0: to the end; decoding stops after it

    static SamplingRule everyNFrames(int n);
    static SamplingRule everySecondsRule(double seconds);
    static SamplingRule sceneChanges(double threshold = 20.0);

    bool isValid(QString *error = nullptr) const;
    // "every 30 frames", "every 1 s", "scene changes (mean difference > 20)", plus " from 5 s to 20 s".
    QString describe() const;
    QJsonObject toJson() const;
    static SamplingRule fromJson(const QJsonObject &object);

    // How many frames the rule keeps from a source with these properties, before decoding it:
    // exact for every N frames of a file whose container counts its frames (MP4, MOV), an
    // estimate from the duration otherwise (VFR files, MKV). -1 when unknown (scene changes, live).
    qint64 estimatedCount(const SourceProperties &properties) const;
    bool needsPixels() const { return mode == Mode::SceneChanges; }
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::SamplingRule)
