#pragma once

#include "client/detectionclient.h"
#include "live/framereducer.h"
#include "live/livepipeline.h"
#include "live/streamsource.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QObject>

#include <memory>

namespace edgelens {

// The live view's figures on a real stream through one device (issue 17's "done when"):
// detections per second of the live loop against the images per second the same device reaches
// on single frames in the same run (before and after the live phase, frames of the same
// stream reduced the same way, as many in flight); capture-to-screen p95 against the device's
// own p95 time per frame; p95 of the last 10 s against the first 10 s. Prints; asserts nothing.
class LiveBench final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveBench)

public:
    struct Options
    {
        StreamSpec source;
        DeviceSpec device;
        int liveSeconds = 60;
        int baselineSeconds = 10;
        int maxInFlight = 2;
        int windowSeconds = 10; // first / last
    };

    explicit LiveBench(const Options &options);
    ~LiveBench() override;

    // Runs the event loop through the three phases; the figures as JSON (empty on failure).
    QJsonObject run(QString *error);

private:
    struct Baseline
    {
        double imagesPerSecond = 0;
        double deviceP95Ms = 0;
        int images = 0;
    };
    struct Sample
    {
        double atSeconds; // since the live phase began
        double latencyMs;
        double deviceMs;
    };

    bool collectFrames(QString *error);
    Baseline baseline(QString *error);
    bool live(QString *error);

    Options m_options;
    DetectionClient m_client;
    QSize m_modelInput;
    QList<ReducedFrame> m_frames; // stills of the stream, reduced as the live loop reduces them
    QList<Sample> m_samples;
    LiveFigures m_liveFigures;
    double m_liveSeconds = 0;
};

} // namespace edgelens
