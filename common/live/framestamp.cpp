#include "framestamp.h"

#include <opencv2/core.hpp>

#include <array>

namespace edgelens {

namespace {

constexpr int kBits = 48;
constexpr int kUsedBlocks = 2 + kBits + 8;

// Blocks must read clearly black or white after lossy compression; a camera image that happens
// to hold a dark/bright pattern there still fails the checksum.
constexpr double kBlackBelow = 80;
constexpr double kWhiteAbove = 175;

std::array<int, kUsedBlocks> encode(qint64 millis)
{
    std::array<int, kUsedBlocks> bits{};
    bits[0] = 1;
    bits[1] = 0;
    quint8 checksum = 0;
    for (int byte = 0; byte < 6; ++byte)
        checksum ^= quint8((quint64(millis) >> (8 * (5 - byte))) & 0xFF);
    for (int i = 0; i < kBits; ++i)
        bits[size_t(2 + i)] = int((quint64(millis) >> (kBits - 1 - i)) & 1);
    for (int i = 0; i < 8; ++i)
        bits[size_t(2 + kBits + i)] = (checksum >> (7 - i)) & 1;
    return bits;
}

} // namespace

int FrameStamp::blockSize(int frameWidth)
{
    return qMax(4, frameWidth / kBlocks);
}

bool FrameStamp::write(cv::Mat &frame, qint64 millisSinceEpoch)
{
    const int block = blockSize(frame.cols);
    if (frame.depth() != CV_8U || frame.cols < kBlocks * 4 || frame.rows < block || millisSinceEpoch < 0)
        return false;
    frame(cv::Rect(0, 0, kBlocks * block, block)).setTo(cv::Scalar::all(0));
    const std::array<int, kUsedBlocks> bits = encode(millisSinceEpoch);
    for (int i = 0; i < kUsedBlocks; ++i) {
        if (bits[size_t(i)])
            frame(cv::Rect(i * block, 0, block, block)).setTo(cv::Scalar::all(255));
    }
    return true;
}

std::optional<qint64> FrameStamp::read(const cv::Mat &frame)
{
    const int block = blockSize(frame.cols);
    if (frame.empty() || frame.depth() != CV_8U || frame.cols < kBlocks * 4 || frame.rows < block)
        return std::nullopt;
    // The middle half of each block: its edges blur into the neighbours under compression.
    const int inset = block / 4;
    const int inner = block - 2 * inset;
    quint64 value = 0;
    quint8 checksum = 0;
    for (int i = 0; i < kUsedBlocks; ++i) {
        const cv::Scalar mean = cv::mean(frame(cv::Rect(i * block + inset, inset, inner, inner)));
        double level = 0;
        for (int c = 0; c < frame.channels(); ++c)
            level += mean[c];
        level /= frame.channels();
        int bit = 0;
        if (level >= kWhiteAbove)
            bit = 1;
        else if (level > kBlackBelow)
            return std::nullopt; // neither black nor white: no stamp here
        if (i == 0 && bit != 1)
            return std::nullopt;
        if (i == 1 && bit != 0)
            return std::nullopt;
        if (i >= 2 && i < 2 + kBits)
            value = (value << 1) | quint64(bit);
        else if (i >= 2 + kBits)
            checksum = quint8((checksum << 1) | bit);
    }
    quint8 expected = 0;
    for (int byte = 0; byte < 6; ++byte)
        expected ^= quint8((value >> (8 * (5 - byte))) & 0xFF);
    if (checksum != expected)
        return std::nullopt;
    return qint64(value);
}

} // namespace edgelens
