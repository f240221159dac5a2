#pragma once

#include "detector/decoder.h"

namespace edgelens {

// GFL head (NanoDet, PP-PicoDet): per stride a [cells, classes] score tensor (sigmoid
// applied) and a [cells, 4 * bins] distance tensor. Export output names lie, so tensors are
// paired by shape: the column count tells scores from distances, the row count the stride.
// The two families differ only in where a cell's centre is, which moves every box.
class NanoDetDecoder final : public Decoder
{
public:
    enum class CellCentre {
        NanoDet,   // col * stride + (stride - 1) / 2, as NanoDet's reference decoder
        HalfStride // (col + 0.5) * stride, as PaddleDetection's PicoDet (0 instead costs half the mAP)
    };

    NanoDetDecoder(cv::Size input, int numClasses, std::vector<int> strides = {8, 16, 32}, int regBins = 8,
                   CellCentre centre = CellCentre::NanoDet, QString family = QStringLiteral("nanodet"));

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    cv::Size m_input;
    int m_numClasses;
    std::vector<int> m_strides;
    int m_regBins;
    CellCentre m_centre;
    QString m_family; // names the family in errors
};

} // namespace edgelens
