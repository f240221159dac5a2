#pragma once

#include <QSize>
#include <QString>

namespace edgelens {

// `edgelens-bench --video`: frames of a video through the embedded server against the same
// frames as JPEG files, as edgelens-cli runs them (the figures a user gets):
//  1. ffmpeg makes a slideshow of the dataset's photos, one a second, at size and fps (H.264);
//  2. `edgelens-cli VIDEO --every-frames N --json` (decode, sample, write frames, detect);
//  3. `edgelens-cli FRAMES_FOLDER --json` on the very frame files step 2 wrote;
//  4. `edgelens-cli PHOTOS --json` on the photos themselves.
// Prints frames/s and images/s (the CLI's own closing line), each run's peak resident memory
// (VmHWM), and the mAP of the slideshow frames (ground truth mapped into the letterboxed
// frame) beside the mAP of the photos. Not a test: asserts nothing.
struct VideoBenchOptions
{
    QString imagesDir;    // photos with ground truth (coco128-train/images)
    QString annotations;  // their COCO instances JSON
    QString workDir;      // where the video, frames and results go
    QString cli;          // edgelens-cli
    QString model;        // empty: the CLI's default
    int seconds = 60;
    QSize size = QSize(1920, 1080);
    int fps = 30;
    int every = 10;
};

class VideoBench final
{
public:
    static int run(const VideoBenchOptions &options);
};

} // namespace edgelens
