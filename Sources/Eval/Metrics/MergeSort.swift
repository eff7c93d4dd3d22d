/// Bottom-up merge sort that counts strict inversions (i < j with a[i] > a[j]) on the way: Kendall's τ needs the
/// number of discordant pairs, which after sorting by x is exactly the inversions left in y. Equal values are not
/// inversions (the merge takes from the left on ties).
enum MergeSort {
    static func sortCountingInversions(_ values: inout [Double]) -> Int {
        var inversions = 0
        var buffer = values
        var width = 1
        while width < values.count {
            var start = 0
            while start < values.count {
                let middle = min(start + width, values.count)
                let end = min(start + 2 * width, values.count)
                var left = start, right = middle, out = start
                while left < middle, right < end {
                    if values[left] <= values[right] {
                        buffer[out] = values[left]
                        left += 1
                    } else {
                        buffer[out] = values[right]
                        inversions += middle - left
                        right += 1
                    }
                    out += 1
                }
                while left < middle { buffer[out] = values[left]; left += 1; out += 1 }
                while right < end { buffer[out] = values[right]; right += 1; out += 1 }
                start = end
            }
            swap(&values, &buffer)
            width *= 2
        }
        return inversions
    }
}
