#pragma once

#include "inputs/framesampler.h"
#include "inputs/imagescanner.h"
#include "inputs/samplingrule.h"

#include <memory>

namespace edgelens {

class FrameJpegEncoder;
class FrameSource;

// Turns a video into the images EdgeLens processes: decodes it in order (a FrameSource), keeps
// the frames a SamplingRule picks, writes each as "<stem>_f<index, 6 digits>.jpg" (PNG when
// asked) into a frames folder, and hands it on as a ScannedImage whose origin records the
// video, the frame index, the decoder's timestamp and the rule. From there a frame is an image
// like any photo: the processing loop, result writer and exports need nothing else.
//
// Pull-based so memory stays bounded: next() decodes only up to the next kept frame and holds
// one frame. Blocking (decoding, encoding, writing): call it on a worker thread, one thread at
// a time per extractor.
class FrameExtractor final
{
public:
    struct Options
    {
        SamplingRule rule;
        QString framesDir;   // where the frame files go (created when the first one is written)
        QString suffix = QStringLiteral("jpg"); // or "png" (lossless, larger)
        int jpegQuality = 95; // the frame file is the item's original: keep it close to the decode
        // Continues an earlier run of the same rule (the app quit in the middle of the video):
        // frames up to this index were handed on then. The sampler still sees them, so later
        // frames are the ones one uninterrupted run picks, but they are neither decoded to
        // pixels, written nor handed on again. -1: a run from the start.
        qint64 resumeAfterIndex = -1;
    };

    FrameExtractor(const ScannedImage &video, const Options &options);
    // A source other than the video file itself (tests, streams replayed from a file).
    FrameExtractor(const ScannedImage &video, const Options &options, std::unique_ptr<FrameSource> source);
    ~FrameExtractor();
    FrameExtractor(const FrameExtractor &) = delete;
    FrameExtractor &operator=(const FrameExtractor &) = delete;

    bool open(QString *error);
    SourceProperties properties() const;
    qint64 estimatedCount() const; // SamplingRule::estimatedCount of this video; -1 unknown

    enum class Step { Frame, End, Error };
    // The next kept frame, written to its file. *pixels (when given) gets its BGR pixels, so
    // whoever sends it need not decode the file again. Error leaves every earlier frame in place.
    Step next(ScannedImage *frame, QString *error, cv::Mat *pixels = nullptr);

    bool variableFrameRate() const;
    qint64 framesDecoded() const { return m_decoded; }
    // Frames the rule picked so far, those an earlier run handed on (resumeAfterIndex) included.
    qint64 framesKept() const { return m_kept; }
    const ScannedImage &video() const { return m_video; }

    // "<output>/frames/<folder of the video relative to its input>": every video's frames in a
    // folder of their own kind, beside the results (which keep their usual names).
    static QString framesDirFor(const QString &outputDir, const ScannedImage &video);
    static QString framesFolderName(); // "frames"

private:
    bool writeFrame(SourceFrame *decoded, const QString &path, QString *error);

    ScannedImage m_video;
    Options m_options;
    std::unique_ptr<FrameSource> m_source;
    FrameSampler m_sampler;
    std::unique_ptr<FrameJpegEncoder> m_jpeg;
    ImageOrigin m_template; // what every frame's origin shares
    qint64 m_decoded = 0;
    qint64 m_kept = 0;
    bool m_sourceSignatures = false; // the source reduces frames for the scene measure itself
    bool m_done = false;
};

} // namespace edgelens
