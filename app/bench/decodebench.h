#pragma once

#include <QString>

namespace edgelens {

// `edgelens-bench --decode VIDEO`: the decoding side of a video run alone (no detector), so
// its cost can be compared on a loaded machine within one command. Keeps every Nth frame and
// writes it as a JPEG (quality 95) into a temporary folder, three ways:
//  1. as edgelens does (FrameExtractor: VideoDecoder told what is kept, frames nobody keeps
//     and nothing refers to not decoded, TurboJPEG from the decoder's 4:2:0 planes);
//  2. the same decoder with every frame decoded, each kept one converted to BGR and encoded
//     from it (what skipping saves);
//  3. as OpenCV's videoio and imencode would (every frame decoded, RGB swap in the encoder).
// Prints per way: frames decoded by the codec, kept, wall and CPU seconds, CPU ms per kept
// frame, kept frames/s. Not a test: asserts nothing.
class DecodeBench final
{
public:
    static int run(const QString &video, int every);
};

} // namespace edgelens
