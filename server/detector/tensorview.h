#pragma once

#include <QString>

#include <opencv2/core/mat.hpp>

#include <vector>

namespace edgelens {

// Reads an N-d float tensor as a 2-D table: leading size-1 axes are dropped, the last axis
// is the columns and everything before it the rows. Decoders use it to match outputs by shape.
class TensorView final
{
public:
    explicit TensorView(const cv::Mat &tensor);

    bool isFloat() const;
    int rows() const;
    int columns() const;
    const float *data() const;
    std::vector<int> shape() const; // with leading 1s removed

    static QString describe(const cv::Mat &tensor);                // "[1, 8400, 85]"
    static QString describe(const std::vector<cv::Mat> &tensors); // "[400, 80], [1600, 32]"

private:
    const cv::Mat &m_tensor;
};

} // namespace edgelens
