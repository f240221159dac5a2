#pragma once

// Names and writes result files the way edgelens-cli does (ResultWriter): "<out>/<stem>.jpg"
// plus "<out>/<stem>.json". The CLI plans names for a fixed input list; the app's list keeps
// growing, so this class remembers which images claimed which base name in each output
// folder and replays that order, which gives the same names the CLI would ("a.jpg", then
// "a.png.jpg" for a second image called "a").
//
// plan() runs on the GUI thread (it owns the bookkeeping); save() is a pure function of the
// plan and runs on any thread.

#include "results/annotation.h"
#include "client/clientresult.h"
#include "inputs/imagescanner.h"

#include <QHash>
#include <QList>
#include <QString>

namespace edgelens {

class ResultSaver final
{
public:
    struct Plan
    {
        QString outputDir;
        bool jsonSidecars = true;
        ScannedImage image;
        QList<ScannedImage> sameBaseName; // every image that claimed this base name, in order, ending with image
        QString imagePath;   // where the marked-up JPEG goes
        QString sidecarPath; // where the JSON goes (even when disabled: for reference)
        ThresholdPolicy policy; // what the sidecar's "detections" are cut at
    };

    struct Outcome
    {
        QString imagePath;   // empty when not written
        QString sidecarPath; // empty when not written
        QString error;
        bool keptCorrections = false; // a person's sidecar was there: the answer went beside it
    };

    // origin: where the image came from (the sidecar records a video frame's origin).
    Plan plan(const QString &canonicalImagePath, const QString &outputDir, bool jsonSidecars,
              const ImageOrigin &origin = ImageOrigin());
    static Outcome save(const Plan &plan, const ClientResult &result);
    void clear() { m_claims.clear(); }
    void setThresholdPolicy(const ThresholdPolicy &policy) { m_policy = policy; }

private:
    ThresholdPolicy m_policy;
    // output dir -> case-folded base name -> claimants in order
    QHash<QString, QHash<QString, QList<ScannedImage>>> m_claims;
};

} // namespace edgelens
